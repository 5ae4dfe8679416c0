using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Tour;

/// <summary>One kind of trap of a run: a VM exit reason (timed one by one) or an instruction a software monitor intercepted.</summary>
public sealed record TrapKind(string Kind, long Count, long Cycles, bool Exact);

/// <summary>
/// One workload under one architecture in a tour: its run at the tour's size (<see cref="Once"/>)
/// and at twice the size (<see cref="Twice"/>), and what the second half of the operations cost
/// alone (every figure here is the difference of the two), or why it could not run.
/// </summary>
public sealed record TourOutcome(string Architecture, VirtualizationAxes Axes, WorkloadRunResult? Once, WorkloadRunResult? Twice, string? NotRun)
{
    public bool Ran => Once is not null && Twice is not null;

    /// <summary>The simulated seconds of the second half's operations.</summary>
    public double Seconds => Twice!.Outcome.SimulatedSeconds - Once!.Outcome.SimulatedSeconds;

    /// <summary>The second half's cycles of <paramref name="category"/>.</summary>
    public long Cycles(CycleCategory category) => Twice!.CyclesByCategory[category] - Once!.CyclesByCategory[category];

    public long TotalCycles => (long)Twice!.Outcome.CoreCycles - (long)Once!.Outcome.CoreCycles;

    /// <summary>Simulated time for the same operations relative to native's; null if either did not run.</summary>
    public double? SlowdownAgainst(TourOutcome native)
    {
        ArgumentNullException.ThrowIfNull(native);
        return Ran && native.Ran ? Seconds / native.Seconds : null;
    }

    /// <summary>
    /// The second half's traps: under VT-x its exits by reason with their cycles (exit to entry,
    /// handler included); under a software monitor, which does not time interceptions one by one,
    /// the instructions it intercepted with the monitor's cycles (transitions, handlers, device
    /// models, translation) shared over them (<see cref="TrapKind.Exact"/> false). Kinds the
    /// second half did not meet are left out.
    /// </summary>
    public IReadOnlyList<TrapKind> Traps()
    {
        if (!Ran)
        {
            return [];
        }
        TrapKind[] exits = [.. Twice!.Exits
            .Select(e => (e.Reason, Count: e.Count - Once!.Exits.FirstOrDefault(x => x.Reason == e.Reason).Count, Cycles: e.Cycles - Once.Exits.FirstOrDefault(x => x.Reason == e.Reason).Cycles))
            .Where(e => e.Count > 0)
            .Select(e => new TrapKind(e.Reason.ToString(), e.Count, e.Cycles, Exact: true))];
        if (exits.Length > 0 || Axes.Cpu == CpuVirtualization.HardwareAssist)
        {
            return exits;
        }
        (Instruction Instruction, long Count)[] intercepted = [.. Twice.Interceptions
            .Select(i => (i.Instruction, i.Count - Once!.Interceptions.FirstOrDefault(x => x.Instruction == i.Instruction).Count))
            .Where(i => i.Item2 > 0)];
        long all = intercepted.Sum(i => i.Count);
        long monitor = MonitorCategories.Sum(Cycles);
        return [.. intercepted.Select(i => new TrapKind(InstructionTable.Of(i.Instruction).Mnemonic + " intercepted", i.Count, monitor * i.Count / Math.Max(1, all), Exact: false))];
    }

    private static readonly CycleCategory[] MonitorCategories =
        [CycleCategory.VmTransition, CycleCategory.Hypervisor, CycleCategory.DeviceEmulation, CycleCategory.WorldSwitch, CycleCategory.Translation];
}
