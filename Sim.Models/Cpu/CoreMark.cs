using Sim.Engine.Time;

namespace Sim.Models.Cpu;

/// <summary>
/// A point in a core's run: the simulated time, the cycles since it started, the instructions
/// retired, the cycles of each category by then, and the cycles spent in user mode (see
/// <see cref="Core.UserModeCycles"/>).
/// </summary>
public sealed record CoreMark(Tick Time, ulong Cycles, long Instructions, IReadOnlyDictionary<CycleCategory, long> CyclesByCategory, long UserModeCycles = 0)
{
    public long IdleCycles => CyclesByCategory[CycleCategory.Idle];
}
