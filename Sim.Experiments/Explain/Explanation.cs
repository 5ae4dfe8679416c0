using System.Globalization;
using System.Text;
using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Experiments.Explain;

/// <summary>A stretch of one iteration spent in one place (guest kernel, a VM exit, the hypervisor, a device model ...), with what happened there.</summary>
public sealed record Phase(ulong Offset, ulong Cycles, CycleCategory Category, string Where, string What);

/// <summary>
/// The anatomy of one operation: a nanobenchmark's last iteration (its operation, then the loop's
/// ALU instruction and branch), traced operation by operation on the machine under an
/// architecture, and told as phases: where the core was, for how many cycles, doing what.
/// </summary>
public sealed record Explanation(string Workload, string Description, string Profile, VirtualizationAxes Axes, IReadOnlyList<Phase> Phases)
{
    public ulong TotalCycles => Phases.Count == 0 ? 0 : Phases[^1].Offset + Phases[^1].Cycles;

    public string Architecture => Axes.IsNative ? "native" : Axes.ToString();

    /// <summary>
    /// Traces <paramref name="benchmark"/> (a nanobenchmark, or a process workload whose loop ends
    /// each iteration with an ALU instruction and a branch, as the lmbench ones do) under
    /// <paramref name="axes"/> on <paramref name="profile"/>: three iterations run, the last (warm) explained.
    /// </summary>
    public static Explanation Of(HardwareProfile profile, IWorkload benchmark, VirtualizationAxes axes)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(benchmark);
        ArgumentNullException.ThrowIfNull(axes);
        var trace = new OperationTrace();
        WorkloadRun.PreparedRun run = WorkloadRun.Prepare(profile, benchmark, 3, seed: 1, axes: axes);
        run.Attach(trace);
        run.Execute();
        return new Explanation(benchmark.Name, benchmark.Description, profile.Name, axes, PhasesOf(LastIteration(trace.Steps), guest: !axes.IsNative && axes.Hosting != Hosting.SharedKernel));
    }

    /// <summary>The steps after the thread's second-to-last loop branch, up to and including its last: one whole iteration.</summary>
    private static List<TraceStep> LastIteration(IReadOnlyList<TraceStep> steps)
    {
        int[] branches = [.. Enumerable.Range(0, steps.Count).Where(i => !steps[i].IsEvent && steps[i].Depth == 1 && steps[i].Op.Kind == OpKind.Branch)];
        if (branches.Length < 2)
        {
            throw new InvalidOperationException("The trace holds fewer than two iterations of the loop.");
        }
        return [.. steps.Skip(branches[^2] + 1).Take(branches[^1] - branches[^2])];
    }

    /// <summary>Consecutive operations in the same place (category and frame depth) become one phase; each event is a phase of its own.</summary>
    private static List<Phase> PhasesOf(List<TraceStep> steps, bool guest)
    {
        var phases = new List<Phase>();
        ulong origin = steps[0].Start;
        int i = 0;
        while (i < steps.Count)
        {
            TraceStep first = steps[i];
            if (first.IsEvent)
            {
                phases.Add(new Phase(first.Start - origin, first.Cycles, first.Category, first.Category == CycleCategory.VmTransition ? "VM transition" : Where(first.Category, guest), first.What));
                i++;
                continue;
            }
            int j = i;
            while (j < steps.Count && !steps[j].IsEvent && steps[j].Category == first.Category && steps[j].Depth == first.Depth)
            {
                j++;
            }
            List<TraceStep> run = steps.GetRange(i, j - i);
            phases.Add(new Phase(first.Start - origin, run[^1].End - first.Start, first.Category, Where(first.Category, guest), Summary(run)));
            i = j;
        }
        return phases;
    }

    private static string Where(CycleCategory c, bool guest) => c switch
    {
        CycleCategory.User => guest ? "guest user" : "user",
        CycleCategory.Kernel => guest ? "guest kernel" : "kernel",
        CycleCategory.Hypervisor => "hypervisor",
        CycleCategory.DeviceEmulation => "device model",
        CycleCategory.WorldSwitch => "host (world switch)",
        CycleCategory.Translation => "translator",
        _ => c.ToString(),
    };

    /// <summary>A run of operations in a few words: the one operation, or the instructions, the named ones, and the memory references.</summary>
    private static string Summary(List<TraceStep> run)
    {
        if (run.Count == 1)
        {
            return run[0].What;
        }
        long instructions = run.Sum(s => s.Op.Kind switch
        {
            OpKind.Alu or OpKind.Branch or OpKind.Multiply or OpKind.Divide => (long)s.Op.Count,
            OpKind.CallReturn => 2L * s.Op.Count,
            OpKind.Fetch => 0,
            _ => 1,
        });
        var parts = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{instructions:N0} instructions") };
        IEnumerable<string> named = run.Where(s => s.Op.Kind == OpKind.Instruction).GroupBy(s => s.What, StringComparer.Ordinal)
            .Select(g => g.Count() == 1 ? g.Key : string.Create(CultureInfo.InvariantCulture, $"{g.Key} x{g.Count()}"));
        parts.AddRange(named);
        foreach ((OpKind kind, string noun) in new[] { (OpKind.Load, "loads"), (OpKind.Store, "stores"), (OpKind.Atomic, "locked updates"), (OpKind.Fetch, "code fetches") })
        {
            int n = run.Count(s => s.Op.Kind == kind);
            if (n > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{n} {noun}"));
            }
        }
        return string.Join("; ", parts);
    }

    /// <summary>The phases as a table for people, with the iteration's cycles by place.</summary>
    public string ToText()
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ci, $"One iteration of '{Workload}' ({Description}) on {Profile}, {Architecture}:\n\n");
        sb.Append(ci, $"  {"cycle",9} {"cycles",9}  {"where",-20} what\n");
        foreach (Phase p in Phases)
        {
            sb.Append(ci, $"  {p.Offset,9:N0} {p.Cycles,9:N0}  {p.Where,-20} {p.What}\n");
        }
        sb.Append(ci, $"\n  {TotalCycles:N0} cycles in all:");
        foreach (var g in Phases.GroupBy(p => p.Where).OrderByDescending(g => g.Sum(p => (double)p.Cycles)))
        {
            sb.Append(ci, $" {g.Key} {g.Sum(p => (double)p.Cycles) / Math.Max(1, TotalCycles):0%},");
        }
        sb.Length--;
        sb.Append('\n');
        return sb.ToString();
    }
}
