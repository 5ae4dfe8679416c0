using Sim.Engine.Statistics;

namespace Sim.Models.Memory;

/// <summary>
/// A path that carries cache lines one after another at a fixed bandwidth: a socket's memory
/// channels, or one direction of the socket interconnect. A line occupies it for its transfer
/// time, so whoever sends lines through it at the same time queues behind the others: cores that
/// stream together share its bandwidth.
/// </summary>
/// <remarks>
/// Time is the cores' cycle clock (every core of a machine runs on one clock), kept in
/// thousandths of a cycle so that a transfer time that is not a whole number of cycles does not
/// drift. A line asked for earlier than the channel's last reservation (a core behind the others
/// in simulated time) waits behind it: the channel serves in the order the simulation asks.
/// </remarks>
public sealed class LineChannel
{
    private readonly ulong _lineMilliCycles;
    private readonly Counter _lines;
    private readonly Counter _queued;
    private ulong _freeMilliCycles;

    /// <param name="lineBytes">Bytes per line.</param>
    /// <param name="bytesPerSecond">The channel's bandwidth.</param>
    /// <param name="frequencyHz">The cores' clock, in which its time is reckoned.</param>
    /// <param name="stats">Where its counts are registered.</param>
    public LineChannel(int lineBytes, double bytesPerSecond, ulong frequencyHz, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        _lineMilliCycles = (ulong)Math.Round(lineBytes / bytesPerSecond * frequencyHz * 1000);
        _lines = stats.Counter("lines", "count", "cache lines carried");
        _queued = stats.Counter("queued_cycles", "cycles", "cycles lines waited for the channel behind other lines");
    }

    /// <summary>One more line, asked for at cycle <paramref name="now"/>: the cycle its transfer starts.</summary>
    public ulong Take(ulong now)
    {
        ulong start = Math.Max(now * 1000, _freeMilliCycles);
        _freeMilliCycles = start + _lineMilliCycles;
        _lines.Increment();
        ulong startCycle = start / 1000;
        _queued.Add((long)(startCycle - Math.Min(startCycle, now)));
        return startCycle;
    }
}
