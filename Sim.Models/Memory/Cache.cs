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
/// the machines modelled), and the level below takes the line modified (<see cref="WroteBack"/>);
/// levels are neither inclusive nor exclusive, so a line may sit in several levels. Coherence between the cores' private caches is the
/// <see cref="CoherenceDirectory"/>'s business: it invalidates and cleans lines here, and learns
/// of a shared level's evictions through <see cref="Evicted"/>.
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
            Evict(evicted, slot);
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
            Evict(evicted, slot);
        }
        _lastLine = ulong.MaxValue; // the fill may have evicted the replayed line
        return !hit;
    }

    /// <summary>
    /// Told of every line this cache evicts to make room (its address), before the new line's
    /// effects: how a shared last level keeps its directory inclusive. Null for none.
    /// </summary>
    public Action<ulong>? Evicted { get; set; }

    /// <summary>Told the physical address of each dirty line this cache evicts, which the level below must now hold modified (or memory take).</summary>
    public Action<ulong>? WroteBack { get; set; }

    private void Evict(ulong? evicted, int slot)
    {
        if (evicted is { } line)
        {
            if (_dirty[slot])
            {
                _writebacks.Increment();
                _dirty[slot] = false;
                WroteBack?.Invoke(line << _lineShift);
            }
            Evicted?.Invoke(line << _lineShift);
        }
        _dirty[slot] = false;
    }

    /// <summary>Removes the line of <paramref name="physicalAddress"/> (another core is writing it); returns whether it was here dirty. No hit or miss is counted.</summary>
    public bool Invalidate(ulong physicalAddress)
    {
        int slot = PeekSlot(physicalAddress, out ulong line);
        if (slot < 0)
        {
            return false;
        }
        bool dirty = _dirty[slot];
        _lines.Invalidate(_lines.SetOf(line), line);
        _dirty[slot] = false;
        if (_lastLine == line)
        {
            _lastLine = ulong.MaxValue;
        }
        return dirty;
    }

    /// <summary>Writes the line of <paramref name="physicalAddress"/> back if it is dirty and keeps it clean (another core reads it); returns whether it was dirty.</summary>
    public bool Clean(ulong physicalAddress)
    {
        int slot = PeekSlot(physicalAddress, out _);
        if (slot < 0 || !_dirty[slot])
        {
            return false;
        }
        _dirty[slot] = false;
        return true;
    }

    /// <summary>Whether the line of <paramref name="physicalAddress"/> is here and dirty, without touching its recency.</summary>
    public bool IsDirty(ulong physicalAddress)
    {
        int slot = PeekSlot(physicalAddress, out _);
        return slot >= 0 && _dirty[slot];
    }

    /// <summary>Marks the line of <paramref name="physicalAddress"/> dirty if it is here (a write-back from the level above); whether it was. No hit or miss is counted.</summary>
    public bool MarkDirty(ulong physicalAddress)
    {
        int slot = PeekSlot(physicalAddress, out _);
        if (slot >= 0)
        {
            _dirty[slot] = true;
        }
        return slot >= 0;
    }

    private int PeekSlot(ulong physicalAddress, out ulong line)
    {
        line = physicalAddress >> _lineShift;
        return _lines.Peek(_lines.SetOf(line), line);
    }

    /// <summary>Whether the line of <paramref name="physicalAddress"/> is present, without touching its LRU order (for tests and reports).</summary>
    public bool Contains(ulong physicalAddress) => PeekSlot(physicalAddress, out _) >= 0;
}
