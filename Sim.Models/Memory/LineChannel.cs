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
/// drift. A line takes the first free slot at or after the time it is asked for, among the slots
/// already reserved: asked in time order (one core), that is simply after the last reservation;
/// asked out of order (a core that runs behind the others within its synchronization quantum), it
/// is the gap its own moment had, so a core is not charged for the others having run ahead of it.
/// Reservations are kept for <see cref="HorizonNanoseconds"/> after they end, longer than any
/// synchronization quantum, so a core behind the others still finds every reservation of its time.
/// </remarks>
public sealed class LineChannel
{
    /// <summary>How long a reservation is kept after it ends: the longest a core may run behind another (the largest synchronization quantum allowed).</summary>
    public const double HorizonNanoseconds = 10_000;

    private readonly ulong _horizonMilliCycles;

    private readonly ulong _lineMilliCycles;
    private readonly Counter _lines;
    private readonly Counter _queued;
    private readonly List<ulong> _starts = []; // reserved transfers' starts, ascending; each lasts _lineMilliCycles
    private int _tail; // from this reservation to the last, the channel is busy without a gap

    /// <param name="lineBytes">Bytes per line.</param>
    /// <param name="bytesPerSecond">The channel's bandwidth.</param>
    /// <param name="frequencyHz">The cores' clock, in which its time is reckoned.</param>
    /// <param name="stats">Where its counts are registered.</param>
    public LineChannel(int lineBytes, double bytesPerSecond, ulong frequencyHz, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        _lineMilliCycles = (ulong)Math.Round(lineBytes / bytesPerSecond * frequencyHz * 1000);
        _horizonMilliCycles = (ulong)(HorizonNanoseconds * frequencyHz / 1e6);
        _lines = stats.Counter("lines", "count", "cache lines carried");
        _queued = stats.Counter("queued_cycles", "cycles", "cycles lines waited for the channel behind other lines");
    }

    /// <summary>One more line, asked for at cycle <paramref name="now"/>: the cycle its transfer starts.</summary>
    public ulong Take(ulong now)
    {
        ulong start = now * 1000;
        int n = _starts.Count;
        if (n == 0 || start >= _starts[_tail])
        {
            // At or after the start of the busy run that ends the reservations (every request in
            // time order is): the first free slot is at its end, or now.
            ulong end = n == 0 ? 0 : _starts[n - 1] + _lineMilliCycles;
            if (start < end)
            {
                start = end;
            }
            else
            {
                _tail = n; // a gap before it: a new busy run begins
            }
            _starts.Add(start);
        }
        else
        {
            int i = FirstEndingAfter(start);
            for (; i < n && _starts[i] < start + _lineMilliCycles; i++)
            {
                start = Math.Max(start, _starts[i] + _lineMilliCycles); // overlaps a reserved transfer: after it
            }
            _starts.Insert(i, start);
            if (i <= _tail)
            {
                _tail++;
            }
        }
        if (now * 1000 > _horizonMilliCycles && _starts[0] + _lineMilliCycles + _horizonMilliCycles < now * 1000)
        {
            int old = Math.Min(FirstEndingAfter((now * 1000) - _horizonMilliCycles), _tail); // no core asks that far back
            _starts.RemoveRange(0, old);
            _tail -= old;
        }
        _lines.Increment();
        ulong startCycle = start / 1000;
        _queued.Add((long)(startCycle - Math.Min(startCycle, now)));
        return startCycle;
    }

    /// <summary>The index of the first reservation that ends after <paramref name="time"/> (all before it end by then).</summary>
    private int FirstEndingAfter(ulong time)
    {
        int lo = 0, hi = _starts.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_starts[mid] + _lineMilliCycles > time)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }
}
