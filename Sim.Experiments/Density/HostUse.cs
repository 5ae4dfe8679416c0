using System.Globalization;
using Sim.Experiments.Runs;
using Sim.Models.Hardware;

namespace Sim.Experiments.Density;

/// <summary>
/// One host resource in a density probe and its utilization, the share of the run it was busy
/// (for memory, the share of the host's memory held).
/// </summary>
/// <param name="Kind">cpu, backend thread, disk, wire, memory controller or memory.</param>
/// <param name="MonitorShare">For a CPU, the share of the run it spent in the monitor: VM transitions, exit handlers, device models, binary translation and a hosted monitor's world switches.</param>
/// <param name="BackendShare">For a CPU, the share of the run its backend threads (QEMU's, vhost's, dom0's) worked, without their polling.</param>
public sealed record HostResource(string Resource, string Kind, double Utilization, double MonitorShare = 0, double BackendShare = 0);

/// <summary>
/// What a density probe's run used of its host (docs/density.md, "What binds"): every resource the
/// binding resource of a run has (<see cref="BindingResource"/>: each CPU, each backend thread,
/// each disk medium and wire), with each CPU's monitor's and backends' own share, besides each
/// socket's memory controller (the cache lines it carried times the line size over its bandwidth)
/// and the host's memory (what the guests held and the host's own software over what it has).
/// The binding resource is named by mechanism: the one whose utilization is highest, saturated
/// from <see cref="BindingResource.Saturated"/>; the utilization law makes it the one with the most
/// demand per request.
/// </summary>
public sealed record HostUse(IReadOnlyList<HostResource> Resources)
{
    private static readonly Models.Cpu.CycleCategory[] MonitorCategories =
    [
        Models.Cpu.CycleCategory.VmTransition, Models.Cpu.CycleCategory.Hypervisor, Models.Cpu.CycleCategory.DeviceEmulation,
        Models.Cpu.CycleCategory.Translation, Models.Cpu.CycleCategory.WorldSwitch,
    ];

    /// <summary>The resources of <paramref name="r"/>'s host, its guests holding <paramref name="memoryUsedMiB"/> of the host's <paramref name="hostMemoryMiB"/> (null: unbounded, no memory row).</summary>
    public static HostUse Of(WorkloadRunResult r, HardwareProfile profile, double memoryUsedMiB, long? hostMemoryMiB)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(profile);
        double seconds = Math.Max(1e-12, r.HostSeconds);
        double cyclesOfOneCpu = Math.Max(1, seconds * r.FrequencyHz);
        IReadOnlyList<DeviceBackend> threads = DeviceBackend.All(r.Run.Samples);
        var rows = new List<HostResource>();
        foreach (ResourceUse u in BindingResource.Of(r).Resources)
        {
            rows.Add(u.Cpu is { } cpu
                ? new HostResource(u.Resource, u.Kind, u.Utilization,
                    MonitorCategories.Sum(c => r.Stat($"host.cpu{cpu}", "cycles::" + c)) / cyclesOfOneCpu,
                    threads.Where(t => t.Cpu == cpu).Sum(t => t.WorkCycles) / cyclesOfOneCpu)
                : new HostResource(u.Resource, u.Kind, u.Utilization));
        }
        // Each socket's controller: the lines it carried, at the profile's bandwidth per controller.
        foreach (string path in r.Run.Samples.Where(s => s.Statistic == "lines" && s.Path.EndsWith("memory_controller", StringComparison.Ordinal)).Select(s => s.Path).Distinct().Order(StringComparer.Ordinal))
        {
            double bytes = r.Stat(path, "lines") * profile.L2.LineBytes;
            rows.Add(new HostResource(path, "memory controller", bytes / (profile.DramBytesPerSecond * seconds)));
        }
        if (hostMemoryMiB is { } host && double.IsFinite(memoryUsedMiB))
        {
            rows.Add(new HostResource("host.memory", "memory", (memoryUsedMiB + (WorkloadRun.HostSoftwareBytes >> 20)) / host));
        }
        return new HostUse(rows);
    }

    /// <summary>The mean use over several seeds' runs, resource by resource (a resource a seed did not use counts as idle in it), in the order they first appear.</summary>
    public static HostUse Mean(IReadOnlyList<HostUse> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var order = new List<(string Resource, string Kind)>();
        foreach (HostResource u in runs.SelectMany(r => r.Resources))
        {
            if (!order.Contains((u.Resource, u.Kind)))
            {
                order.Add((u.Resource, u.Kind));
            }
        }
        double MeanOf(string resource, Func<HostResource, double> value) =>
            runs.Count == 0 ? 0 : runs.Sum(r => r.Resources.FirstOrDefault(u => u.Resource == resource) is { } u ? value(u) : 0) / runs.Count;
        return new HostUse([.. order.Select(o => new HostResource(o.Resource, o.Kind, MeanOf(o.Resource, u => u.Utilization), MeanOf(o.Resource, u => u.MonitorShare), MeanOf(o.Resource, u => u.BackendShare)))]);
    }

    /// <summary>The busiest resource that serves requests (the memory's share is what it holds, not time busy, and binds by refusing guests or by their faults), or null when nothing was busy.</summary>
    public HostResource? Busiest => Resources.Where(u => u.Utilization > 0 && u.Kind != "memory").OrderByDescending(u => u.Utilization).ThenBy(u => u.Resource, StringComparer.Ordinal).FirstOrDefault();

    /// <summary>Whether the busiest resource is saturated (<see cref="BindingResource.Saturated"/>).</summary>
    public bool IsSaturated => Busiest is { Utilization: >= BindingResource.Saturated };

    /// <summary>
    /// The binding resource in a few words: the busiest, "host.cpu0 (cpu, busy 99%, saturated)",
    /// or "host.cpu0 (cpu, busy 83%, not saturated: queueing there)" where no resource is saturated
    /// and the requests' waits at the busiest set the level.
    /// </summary>
    public string Binding() => Busiest is not { } b ? "nothing busy"
        : string.Create(CultureInfo.InvariantCulture, $"{b.Resource} ({b.Kind}, busy {100 * b.Utilization:0}%, {(IsSaturated ? "saturated" : "not saturated: queueing there")})");
}
