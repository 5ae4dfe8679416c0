using Sim.Engine.Statistics;
using Sim.Models.Hardware;

namespace Sim.Models.Memory;

/// <summary>
/// One cache level: set-associative over physical line addresses, write-allocate and
/// write-back. It answers hit or miss and keeps dirty bits; the latency of a level is the
/// <see cref="MemoryPath"/>'s business.
/// </summary>
/// <remarks>
/// Model: a write-back of a dirty victim is counted but costs no time (write buffers hide it on
/// the machines modelled); levels are neither inclusive nor exclusive, so a line may sit in
/// several levels; there is no coherence between the private caches of different cores yet.
/// </remarks>
public sealed class Cache
{
    private readonly SetAssociativeArray _lines;
    private readonly bool[] _dirty;
    private readonly int _lineShift;
    private readonly Counter _hits;
    private readonly Counter _misses;
    private readonly Counter _writebacks;

    // The line of the last access and its slot: a repeat access to it is a hit without a lookup
    // (host-speed shortcut, exact: that line is already the most recent of its set, and nothing
    // but an access changes the array).
    private ulong _lastLine = ulong.MaxValue;
    private int _lastSlot;

    public Cache(CacheGeometry geometry, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(stats);
        geometry.Validate();
        Geometry = geometry;
        _lines = new SetAssociativeArray(geometry.Sets, geometry.Ways);
        _dirty = new bool[_lines.Capacity];
        _lineShift = System.Numerics.BitOperations.Log2((uint)geometry.LineBytes);
        _hits = stats.Counter("hits", "count", "accesses that found their line");
        _misses = stats.Counter("misses", "count", "accesses that had to fetch their line from below");
        _writebacks = stats.Counter("writebacks", "count", "dirty lines evicted");
    }

    public CacheGeometry Geometry { get; }

    public long Hits => _hits.Value;

    public long Misses => _misses.Value;

    /// <summary>Dirty lines this cache has evicted (each a write to the level below).</summary>
    public long Writebacks => _writebacks.Value;

    /// <summary>Looks up the line of <paramref name="physicalAddress"/>, filling it on a miss; true on a hit.</summary>
    public bool Access(ulong physicalAddress, bool write)
    {
        ulong line = physicalAddress >> _lineShift;
        if (line == _lastLine)
        {
            _hits.Increment();
            _dirty[_lastSlot] |= write;
            return true;
        }
        int set = _lines.SetOf(line);
        int slot = _lines.FindOrInsert(set, line, out bool hit, out ulong? evicted);
        (_lastLine, _lastSlot) = (line, slot);
        if (hit)
        {
            _hits.Increment();
        }
        else
        {
            _misses.Increment();
            if (evicted is not null && _dirty[slot])
            {
                _writebacks.Increment();
            }
            _dirty[slot] = false;
        }
        _dirty[slot] |= write;
        return hit;
    }

    /// <summary>Brings the line of <paramref name="physicalAddress"/> in without a demand access (a prefetch): no hit or miss is counted; false when it was already there.</summary>
    public bool Fill(ulong physicalAddress)
    {
        ulong line = physicalAddress >> _lineShift;
        int slot = _lines.FindOrInsert(_lines.SetOf(line), line, out bool hit, out ulong? evicted);
        if (!hit)
        {
            if (evicted is not null && _dirty[slot])
            {
                _writebacks.Increment();
            }
            _dirty[slot] = false;
        }
        _lastLine = ulong.MaxValue; // the fill may have evicted the replayed line
        return !hit;
    }

    /// <summary>Whether the line of <paramref name="physicalAddress"/> is present, without touching its LRU order (for tests and reports).</summary>
    public bool Contains(ulong physicalAddress)
    {
        ulong line = physicalAddress >> _lineShift;
        int set = _lines.SetOf(line);
        for (int way = 0; way < _lines.Ways; way++)
        {
            if (_lines.TagAt((set * _lines.Ways) + way) == line)
            {
                return true;
            }
        }
        return false;
    }
}
