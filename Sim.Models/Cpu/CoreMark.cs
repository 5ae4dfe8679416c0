using Sim.Engine.Time;

namespace Sim.Models.Cpu;

/// <summary>A point in a core's run: the simulated time, the cycles since it started, the instructions retired and the cycles of each category by then.</summary>
public sealed record CoreMark(Tick Time, ulong Cycles, long Instructions, IReadOnlyDictionary<CycleCategory, long> CyclesByCategory)
{
    public long IdleCycles => CyclesByCategory[CycleCategory.Idle];
}
