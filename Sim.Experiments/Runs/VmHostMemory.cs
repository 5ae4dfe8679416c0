using Sim.Engine.Statistics;

namespace Sim.Experiments.Runs;

/// <summary>
/// A virtual machine's host memory, part by part, as its <c>vmN.memory</c> statistics give it:
/// the guest memory the host backs, its EPT's tables, the hypervisor's per-vCPU frames, and the
/// first touches that backed memory on demand, beside the guest memory the VM has; with host
/// swap, the guest memory in it (null without host swap).
/// </summary>
public sealed record VmHostMemory(string Vm, double Guest, double Backed, double EptTables, double Structures, double FirstTouches, double HugeSplits = 0, double Refaults = 0,
    double? Swapped = null)
{
    private const string Group = ".memory";

    /// <summary>Every part together.</summary>
    public double Total => Backed + EptTables + Structures;

    /// <summary>Whether the host backed the guest's memory on first touch (rather than whole, before it started).</summary>
    public bool OnTouch => FirstTouches > 0;

    /// <summary>The parts of <paramref name="vm"/> (vm0, vm1 ...) in <paramref name="samples"/>; null if it has none (a container, or a native run).</summary>
    public static VmHostMemory? Of(IReadOnlyList<StatSample> samples, string vm)
    {
        ArgumentNullException.ThrowIfNull(samples);
        string path = vm + Group;
        double? Part(string statistic) => samples.Where(s => s.Path == path && s.Statistic == statistic).Select(s => (double?)s.Value).FirstOrDefault();
        return Part("backed_bytes") is { } backed
            ? new VmHostMemory(vm, Part("guest_bytes") ?? 0, backed, Part("ept_table_bytes") ?? 0, Part("vcpu_structure_bytes") ?? 0, Part("first_touches") ?? 0, Part("huge_splits") ?? 0, Part("refaults") ?? 0,
                Part("swapped_bytes"))
            : null;
    }

    /// <summary>Every virtual machine's parts in <paramref name="samples"/>, in the samples' order.</summary>
    public static IReadOnlyList<VmHostMemory> All(IReadOnlyList<StatSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return [.. samples.Where(s => s.Statistic == "backed_bytes" && s.Path.EndsWith(Group, StringComparison.Ordinal)).Select(s => s.Path[..^Group.Length]).Distinct()
            .Select(vm => Of(samples, vm)!)];
    }
}
