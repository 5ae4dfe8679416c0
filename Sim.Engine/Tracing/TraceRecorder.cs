using Sim.Engine.Time;

namespace Sim.Engine.Tracing;

/// <summary>
/// Records spans, instants and counter values per component track, in a ring buffer of fixed
/// capacity: when full, the oldest records are overwritten (and counted as dropped), so memory
/// stays bounded however long the run. An optional window keeps only records that overlap it.
/// Tracing is off unless a recorder is given to the simulator; components check for null, so
/// an untraced run pays one comparison per trace point.
/// </summary>
public sealed class TraceRecorder
{
    private readonly TraceRecord[] _ring;
    private readonly List<string> _tracks = [];
    private readonly Dictionary<string, int> _trackIds = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly Dictionary<string, int> _nameIds = new(StringComparer.Ordinal);
    private readonly ulong _windowStart;
    private readonly ulong _windowEnd;
    private long _written;

    public TraceRecorder(int capacity, Tick? windowStart = null, Tick? windowEnd = null)
    {
        if (capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "A trace needs room for at least one record.");
        }
        _ring = new TraceRecord[capacity];
        _windowStart = windowStart?.Picoseconds ?? 0;
        _windowEnd = windowEnd?.Picoseconds ?? ulong.MaxValue;
        if (_windowEnd < _windowStart)
        {
            throw new ArgumentOutOfRangeException(nameof(windowEnd), "The trace window ends before it starts.");
        }
    }

    public int Capacity => _ring.Length;

    /// <summary>Records kept (at most the capacity).</summary>
    public int Count => (int)Math.Min(_written, _ring.Length);

    /// <summary>Records overwritten because the ring was full.</summary>
    public long Dropped => Math.Max(0, _written - _ring.Length);

    public IReadOnlyList<string> Tracks => _tracks;

    public IReadOnlyList<string> Names => _names;

    /// <summary>The id of the track of a component (its path); components ask once, when built.</summary>
    public int Track(string componentPath) => Intern(componentPath, _tracks, _trackIds);

    /// <summary>The id of a span, instant or counter name.</summary>
    public int Name(string name) => Intern(name, _names, _nameIds);

    public void Span(int track, int name, Tick start, Tick end)
    {
        if (end < start)
        {
            throw new ArgumentOutOfRangeException(nameof(end), "A span cannot end before it starts.");
        }
        if (end.Picoseconds >= _windowStart && start.Picoseconds <= _windowEnd)
        {
            Write(new TraceRecord(TraceKind.Span, track, name, start.Picoseconds, end.Picoseconds - start.Picoseconds, 0));
        }
    }

    public void Instant(int track, int name, Tick at)
    {
        if (InWindow(at))
        {
            Write(new TraceRecord(TraceKind.Instant, track, name, at.Picoseconds, 0, 0));
        }
    }

    public void Counter(int track, int name, Tick at, long value)
    {
        if (InWindow(at))
        {
            Write(new TraceRecord(TraceKind.Counter, track, name, at.Picoseconds, 0, value));
        }
    }

    /// <summary>The kept records, oldest first.</summary>
    public IEnumerable<TraceRecord> Records()
    {
        int count = Count;
        long first = _written - count;
        for (long i = 0; i < count; i++)
        {
            yield return _ring[(first + i) % _ring.Length];
        }
    }

    private bool InWindow(Tick at) => at.Picoseconds >= _windowStart && at.Picoseconds <= _windowEnd;

    private void Write(in TraceRecord record)
    {
        _ring[_written % _ring.Length] = record;
        _written++;
    }

    private static int Intern(string text, List<string> list, Dictionary<string, int> ids)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        if (!ids.TryGetValue(text, out int id))
        {
            id = list.Count;
            list.Add(text);
            ids.Add(text, id);
        }
        return id;
    }
}
