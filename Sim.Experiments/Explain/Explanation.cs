using System.Globalization;
using System.Text;
using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Experiments.Explain;

/// <summary>
/// A stretch of one iteration spent in one place (guest kernel, a VM exit, the hypervisor, a
/// device model ...), with what happened there; <paramref name="IsEvent"/> when it is an event
/// between operations (a VM exit or entry, an exception or interrupt delivered).
/// <see cref="Holes"/> names the virtualization holes the phase met: sensitive instructions
/// that, in a guest kernel deprivileged to ring 3 by trap-and-emulate, complete without trapping
/// and do something other than at ring 0 (POPF, PUSHF, ...: Popek and Goldberg's condition fails).
/// </summary>
public sealed record Phase(ulong Offset, ulong Cycles, CycleCategory Category, string Where, string What, bool IsEvent = false)
{
    public IReadOnlyList<string> Holes { get; init; } = [];
}

/// <summary>
/// The anatomy of one operation: a nanobenchmark's last iteration (its operation, then the loop's
/// ALU instruction and branch), traced operation by operation on the machine under an
/// architecture, and told as phases: where the core was, for how many cycles, doing what.
/// </summary>
public sealed record Explanation(string Workload, string Description, string Profile, VirtualizationAxes Axes, IReadOnlyList<Phase> Phases)
{
    public ulong TotalCycles => Phases.Count == 0 ? 0 : Phases[^1].Offset + Phases[^1].Cycles;

    public string Architecture => Axes.IsNative ? "native" : Axes.ToString();

    /// <summary>A short name for the architecture: the preset's whose axes it has on the profile, else its CPU virtualization's.</summary>
    public string Name { get; init; } = "";

    /// <summary>The events of the iteration (VM exits and entries, traps and interrupts delivered).</summary>
    public int Events => Phases.Count(p => p.IsEvent);

    /// <summary>Whether the iteration has an IN or OUT that, natively, waits for a legacy-bus I/O cycle.</summary>
    public bool WaitsForLegacyBus => Axes.IsNative && Phases.Any(p => p.What.Contains("IN port", StringComparison.Ordinal) || p.What.Contains("OUT port", StringComparison.Ordinal));

    /// <summary>
    /// Why a monitor can take fewer cycles than native on a port access (the native <c>in</c> is
    /// slower than under most monitors): said wherever such a result is shown.
    /// </summary>
    public const string LegacyBusNote =
        "Why a monitor can beat native on a port access: natively the IN or OUT goes out to the legacy (LPC) bus and waits for its I/O cycle\n" +
        "(844 ns, calibrated on Adams and Agesen's native 'in'); a monitor's device model answers from memory, so the whole\n" +
        "trap can cost less than the bus cycle it replaces.\n";

    /// <summary>
    /// What can be explained: the nanobenchmarks, and the lmbench latencies of one process whose
    /// loop ends each iteration with an ALU instruction and a branch (the two-process ones, the
    /// context switches, are not one operation).
    /// </summary>
    public static IReadOnlyList<IWorkload> Explainable { get; } =
        [.. Workloads.Nanobenchmarks.Nanobenchmark.All, .. Workloads.Processes.Lmbench.All.Where(l => !l.Name.StartsWith("lat-ctx", StringComparison.Ordinal))];

    /// <summary>
    /// Why <paramref name="scenario"/> cannot be explained, in a sentence, or null: its workload
    /// must be one of <see cref="Explainable"/>, its profile a built-in one, its architecture one the
    /// profile can have.
    /// </summary>
    public static string? Problem(Scenarios.WorkloadScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (Explainable.All(n => n.Name != scenario.Workload))
        {
            return $"'{scenario.Workload}' is not a nanobenchmark or an lmbench latency; explain one of: {string.Join(", ", Explainable.Select(n => n.Name))}.";
        }
        if (HardwareProfiles.All.All(p => p.Name != scenario.Profile))
        {
            return $"there is no hardware profile '{scenario.Profile}'; the profiles are: {string.Join(", ", HardwareProfiles.All.Select(p => p.Name))}.";
        }
        return scenario.FirstProblem() is { } problem ? problem + "." : null;
    }

    /// <summary>Native, the presets, and the software monitors, as far as they run <paramref name="benchmark"/> on <paramref name="profile"/>, each once.</summary>
    public static IReadOnlyList<VirtualizationAxes> Architectures(HardwareProfile profile, IWorkload benchmark)
    {
        var all = VirtualizationAxes.Presets.Select(p => VirtualizationAxes.ForPreset(p, profile))
            .Concat([VirtualizationAxes.Resolve("native", profile, CpuVirtualization.TrapAndEmulate, null, null, null),
                     VirtualizationAxes.Resolve("native", profile, CpuVirtualization.BinaryTranslation, null, null, null)]);
        return [.. all.Distinct().Where(a => WorkloadRun.Problem(profile, benchmark, a) is null)];
    }

    /// <summary>
    /// Traces <paramref name="benchmark"/> (a nanobenchmark, or a process workload whose loop ends
    /// each iteration with an ALU instruction and a branch, as the lmbench ones do) under
    /// <paramref name="axes"/> on <paramref name="profile"/>: <see cref="Iterations"/> run, the last (warm) explained.
    /// </summary>
    public static Explanation Of(HardwareProfile profile, IWorkload benchmark, VirtualizationAxes axes)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(benchmark);
        ArgumentNullException.ThrowIfNull(axes);
        var trace = new OperationTrace();
        WorkloadRun.PreparedRun run = WorkloadRun.Prepare(profile, benchmark, Iterations, seed: 1, axes: axes);
        run.Attach(trace);
        run.Execute();
        return new Explanation(benchmark.Name, benchmark.Description, profile.Name, axes, PhasesOf(LastIteration(trace.Steps), guest: !axes.IsNative && axes.Hosting != Hosting.SharedKernel, deprivileged: axes.Cpu == CpuVirtualization.TrapAndEmulate))
        {
            Name = NameOf(axes, profile),
        };
    }

    /// <summary>
    /// Iterations an explanation runs: enough that the one explained is warm under every monitor,
    /// a binary translator's included, which adapts an instruction's translation after it faulted
    /// <see cref="Models.Virtualization.TranslationCache.AdaptAfterFaults"/> times (one fault an
    /// iteration at most). A nanobenchmark's last is explained; an lmbench test reads the clock
    /// around its first operation and each repetition's (three repetitions of one in eight
    /// operations), so its last iteration free of clock readings is the fifth, its warm-up's last.
    /// </summary>
    public const int Iterations = Models.Virtualization.TranslationCache.AdaptAfterFaults + 5;

    /// <summary>The preset whose axes <paramref name="axes"/> are on <paramref name="profile"/>, or the name of its CPU virtualization.</summary>
    public static string NameOf(VirtualizationAxes axes, HardwareProfile profile)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return VirtualizationAxes.Presets.FirstOrDefault(p => VirtualizationAxes.ForPreset(p, profile) == axes) ?? AxisNames.Of(axes.Cpu);
    }

    /// <summary>
    /// Several explanations of one workload side by side: per architecture the iteration's cycles,
    /// relative to the first (native), its phases and events, and where the cycles went.
    /// </summary>
    public static string Summary(IReadOnlyList<Explanation> explanations)
    {
        ArgumentNullException.ThrowIfNull(explanations);
        var ci = CultureInfo.InvariantCulture;
        Explanation first = explanations[0];
        var sb = new StringBuilder();
        sb.Append(ci, $"One iteration of '{first.Workload}' ({first.Description}) on {first.Profile}:\n\n");
        sb.Append(ci, $"  {"architecture",-19} {"cpu / mmu / io / hosting",-52} {"cycles",9} {(first.Axes.IsNative ? "x native" : "x first"),8} {"phases",7} {"events",7}  where the cycles went\n");
        foreach (Explanation e in explanations)
        {
            sb.Append(ci, $"  {e.Name,-19} {e.Axes.ToString(),-52} {e.TotalCycles,9:N0} {(double)e.TotalCycles / Math.Max(1, first.TotalCycles),8:0.00} {e.Phases.Count,7} {e.Events,7}  {e.Shares(3)}\n");
        }
        if (first.WaitsForLegacyBus && explanations.Skip(1).Any(e => e.TotalCycles < first.TotalCycles))
        {
            sb.Append('\n').Append(LegacyBusNote);
        }
        return sb.ToString();
    }

    /// <summary>The iteration's cycles by place, largest first, the first <paramref name="count"/> of them and the rest as "other".</summary>
    private string Shares(int count)
    {
        var ci = CultureInfo.InvariantCulture;
        var places = Phases.GroupBy(p => p.Where).Select(g => (Where: g.Key, Cycles: g.Sum(p => (double)p.Cycles))).OrderByDescending(g => g.Cycles).ThenBy(g => g.Where, StringComparer.Ordinal).ToList();
        double total = Math.Max(1, TotalCycles);
        IEnumerable<string> shown = places.Take(count).Select(g => string.Create(ci, $"{g.Where} {g.Cycles / total:0%}"));
        double rest = places.Skip(count).Sum(g => g.Cycles);
        return string.Join(", ", rest / total >= 0.005 ? shown.Append(string.Create(ci, $"other {rest / total:0%}")) : shown);
    }

    /// <summary>The steps after the thread's second-to-last loop branch, up to and including its last: one whole iteration.</summary>
    private static List<TraceStep> LastIteration(IReadOnlyList<TraceStep> steps)
    {
        int[] branches = [.. Enumerable.Range(0, steps.Count).Where(i => !steps[i].IsEvent && steps[i].Depth == 1 && steps[i].Op.Kind == OpKind.Branch)];
        if (branches.Length < 2)
        {
            throw new InvalidOperationException("The trace holds fewer than two iterations of the loop.");
        }
        // The last iteration without the lmbench harness's clock readings between it and the one before.
        for (int k = branches.Length - 1; k > 0; k--)
        {
            List<TraceStep> iteration = [.. steps.Skip(branches[k - 1] + 1).Take(branches[k] - branches[k - 1])];
            if (!iteration.Exists(IsClockReading))
            {
                return iteration;
            }
        }
        throw new InvalidOperationException("Every iteration in the trace holds a clock reading.");
    }

    private static bool IsClockReading(TraceStep step) =>
        !step.IsEvent && step.Depth == 1 && step.Op is { Kind: OpKind.Instruction, Instruction: Instruction.Syscall } && step.Op.Operand == (ulong)SyscallNumber.ClockGettime;

    /// <summary>Consecutive operations in the same place (category and frame depth) become one phase; each event is a phase of its own.</summary>
    private static List<Phase> PhasesOf(List<TraceStep> steps, bool guest, bool deprivileged)
    {
        var phases = new List<Phase>();
        ulong origin = steps[0].Start;
        int i = 0;
        while (i < steps.Count)
        {
            TraceStep first = steps[i];
            if (first.IsEvent)
            {
                phases.Add(new Phase(first.Start - origin, first.Cycles, first.Category, first.Category == CycleCategory.VmTransition ? "VM transition" : Where(first.Category, guest), first.What, IsEvent: true));
                i++;
                continue;
            }
            int j = i;
            while (j < steps.Count && !steps[j].IsEvent && steps[j].Category == first.Category && steps[j].Depth == first.Depth)
            {
                j++;
            }
            List<TraceStep> run = steps.GetRange(i, j - i);
            phases.Add(new Phase(first.Start - origin, run[^1].End - first.Start, first.Category, Where(first.Category, guest), Summary(run))
            {
                // The guest kernel runs at ring 3 under trap-and-emulate: there its holes misbehave unseen.
                Holes = deprivileged && first.Category == CycleCategory.Kernel
                    ? [.. run.Where(s => s.Op.Kind == OpKind.Instruction && InstructionTable.Of(s.Op.Instruction).IsVirtualizationHole).Select(s => s.What).Distinct(StringComparer.Ordinal)]
                    : [],
            });
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
        sb.Append(ci, $"One iteration of '{Workload}' ({Description}) on {Profile}, {(Name == Architecture ? Name : $"{Name} ({Architecture})")}:\n\n");
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
        if (WaitsForLegacyBus)
        {
            sb.Append('\n').Append(LegacyBusNote);
        }
        return sb.ToString();
    }
}
