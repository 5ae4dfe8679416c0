using System.Globalization;

namespace Sim.Engine.Time;

/// <summary>
/// A clock of a given frequency whose cycle 0 starts at tick 0; converts between its
/// <see cref="Cycles"/> and simulated <see cref="Tick"/>s.
/// </summary>
/// <remarks>
/// Rounding: most frequencies have no whole-picosecond period (3.8 GHz is 263.157... ps), so
/// a fixed integer period would drift (263 ps per cycle loses 0.06% of time). Instead, cycle
/// edge <c>n</c> lies at the exact rational time <c>n * 10^12 / f</c> picoseconds, and
/// <see cref="EdgeTick"/> rounds it <em>up</em> to the first whole picosecond at or after it.
/// Each edge is thus at most 1 ps late and the error never accumulates, however long the run.
/// <see cref="CyclesAt"/> is the exact inverse: the number of edges at or before a tick
/// (rounding down), so <c>CyclesAt(EdgeTick(n)) == n</c> for every clock below 1 THz.
/// Arithmetic is done in 128 bits, so no conversion overflows within the range of a Tick.
/// </remarks>
public sealed class ClockDomain
{
    private const ulong MaxFrequencyHz = Tick.PicosecondsPerSecond - 1; // keeps the period above 1 ps

    public ClockDomain(string name, ulong frequencyHz)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (frequencyHz is 0 or > MaxFrequencyHz)
        {
            throw new ArgumentOutOfRangeException(nameof(frequencyHz), frequencyHz,
                "A clock frequency must be between 1 Hz and 999.999999999 GHz.");
        }
        Name = name;
        FrequencyHz = frequencyHz;
    }

    public string Name { get; }

    public ulong FrequencyHz { get; }

    /// <summary>Frequency in GHz, for reports only.</summary>
    public double FrequencyGHz => FrequencyHz / 1e9;

    /// <summary>The tick of the edge that begins cycle <paramref name="cycle"/>: ceil(n * 10^12 / f).</summary>
    public Tick EdgeTick(Cycles cycle)
    {
        UInt128 scaled = (UInt128)cycle.Count * Tick.PicosecondsPerSecond;
        UInt128 ps = (scaled + FrequencyHz - 1) / FrequencyHz;
        return new Tick(checked((ulong)ps));
    }

    /// <summary>How many cycle edges (after edge 0) lie at or before <paramref name="tick"/>: floor(t * f / 10^12).</summary>
    public Cycles CyclesAt(Tick tick)
    {
        UInt128 scaled = (UInt128)tick.Picoseconds * FrequencyHz;
        return new Cycles((ulong)(scaled / Tick.PicosecondsPerSecond));
    }

    /// <summary>The first cycle edge at or after <paramref name="tick"/>.</summary>
    public Cycles CycleAtOrAfter(Tick tick)
    {
        Cycles c = CyclesAt(tick);
        return EdgeTick(c) == tick ? c : new Cycles(c.Count + 1);
    }

    /// <summary>
    /// The tick at which <paramref name="duration"/> cycles starting at the first edge at or
    /// after <paramref name="start"/> have elapsed. Computed from absolute cycle numbers, so
    /// adding durations one by one lands on the same edges as adding them all at once.
    /// </summary>
    public Tick After(Tick start, Cycles duration) => EdgeTick(CycleAtOrAfter(start) + duration);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} ({FrequencyHz} Hz)");
}
