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

    /// <summary>Several cores' marks taken together at <paramref name="time"/>: their cycles, instructions and categories summed (CPU cycles, not elapsed ones).</summary>
    public static CoreMark Sum(Tick time, IEnumerable<CoreMark> marks)
    {
        ArgumentNullException.ThrowIfNull(marks);
        List<CoreMark> all = [.. marks];
        return new CoreMark(time, (ulong)all.Sum(m => (decimal)m.Cycles), all.Sum(m => m.Instructions),
            Enum.GetValues<CycleCategory>().ToDictionary(c => c, c => all.Sum(m => m.CyclesByCategory[c])), all.Sum(m => m.UserModeCycles));
    }
}
