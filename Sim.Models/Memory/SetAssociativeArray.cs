namespace Sim.Models.Memory;

/// <summary>
/// The lookup structure shared by caches, TLBs and paging-structure caches: sets of ways holding
/// 64-bit tags, with least-recently-used replacement by access stamps. The owner keeps whatever
/// each slot caches (a translation, a dirty bit) in its own arrays indexed by slot.
/// </summary>
/// <remarks>
/// Model: true LRU (the hardware uses pseudo-LRU variants whose exact policies are not
/// published). Stamps come from a 64-bit counter, so the order never wraps. A tag of 0 marks an
/// empty way (tags are stored plus one), and an empty way has the lowest stamp, so it is filled
/// before anything is evicted.
/// </remarks>
public sealed class SetAssociativeArray
{
    private readonly Way[] _slots; // tag and stamp side by side: a set's scan reads contiguous memory
    private readonly int _ways;
    private readonly int _sets;
    private readonly ulong _setMask; // sets - 1 when the set count is a power of two (every profile's caches and TLBs), else 0
    private ulong _clock;

    public SetAssociativeArray(int sets, int ways)
    {
        if (sets <= 0 || ways <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sets), $"A set-associative array needs at least one set and one way (got {sets} x {ways}).");
        }
        _sets = sets;
        _setMask = System.Numerics.BitOperations.IsPow2(sets) ? (ulong)sets - 1 : 0;
        _ways = ways;
        _slots = new Way[sets * ways];
    }

    public int Sets => _sets;

    public int Ways => _ways;

    public int Capacity => _slots.Length;

    /// <summary>The set a key maps to.</summary>
    public int SetOf(ulong key) => (int)(_setMask != 0 || _sets == 1 ? key & _setMask : key % (ulong)_sets); // a mask, not a 64-bit division, on the hot path

    /// <summary>The slot holding <paramref name="tag"/> in <paramref name="set"/>, made most recent; -1 when absent.</summary>
    public int Find(int set, ulong tag)
    {
        int first = set * _ways;
        ulong stored = tag + 1;
        for (int slot = first; slot < first + _ways; slot++)
        {
            if (_slots[slot].Tag == stored)
            {
                _slots[slot].Stamp = ++_clock;
                return slot;
            }
        }
        return -1;
    }

    /// <summary>
    /// <see cref="Find"/> and, on a miss, <see cref="Insert"/> in one scan of the set: the slot of
    /// <paramref name="tag"/>, made most recent; <paramref name="hit"/> says whether it was there,
    /// <paramref name="evictedTag"/> what a miss replaced.
    /// </summary>
    public int FindOrInsert(int set, ulong tag, out bool hit, out ulong? evictedTag)
    {
        int first = set * _ways;
        ulong stored = tag + 1;
        int victim = first;
        ulong victimStamp = ulong.MaxValue;
        for (int slot = first; slot < first + _ways; slot++)
        {
            ref Way way = ref _slots[slot];
            if (way.Tag == stored)
            {
                way.Stamp = ++_clock;
                hit = true;
                evictedTag = null;
                return slot;
            }
            // An empty way has stamp 0, so it is always the victim of choice.
            if (way.Stamp < victimStamp)
            {
                victim = slot;
                victimStamp = way.Stamp;
            }
        }
        hit = false;
        ref Way chosen = ref _slots[victim];
        evictedTag = chosen.Tag == 0 ? null : chosen.Tag - 1;
        chosen.Tag = stored;
        chosen.Stamp = ++_clock;
        return victim;
    }

    /// <summary>
    /// Puts <paramref name="tag"/> into <paramref name="set"/>, in an empty way or else in place of
    /// the least recently used one, and returns the slot. <paramref name="evictedTag"/> is the tag
    /// that was replaced, or null.
    /// </summary>
    public int Insert(int set, ulong tag, out ulong? evictedTag)
    {
        int first = set * _ways;
        int victim = first;
        for (int slot = first; slot < first + _ways; slot++)
        {
            if (_slots[slot].Stamp < _slots[victim].Stamp)
            {
                victim = slot;
            }
        }
        ref Way chosen = ref _slots[victim];
        evictedTag = chosen.Tag == 0 ? null : chosen.Tag - 1;
        chosen.Tag = tag + 1;
        chosen.Stamp = ++_clock;
        return victim;
    }

    /// <summary>Empties the slot holding <paramref name="tag"/> in <paramref name="set"/>; false when absent.</summary>
    public bool Invalidate(int set, ulong tag)
    {
        int first = set * _ways;
        for (int slot = first; slot < first + _ways; slot++)
        {
            if (_slots[slot].Tag == tag + 1)
            {
                _slots[slot] = default;
                return true;
            }
        }
        return false;
    }

    /// <summary>Empties every slot whose tag satisfies <paramref name="match"/> (a flush); returns how many.</summary>
    public int InvalidateWhere(Func<ulong, int, bool> match)
    {
        int removed = 0;
        for (int slot = 0; slot < _slots.Length; slot++)
        {
            if (_slots[slot].Tag != 0 && match(_slots[slot].Tag - 1, slot))
            {
                _slots[slot] = default;
                removed++;
            }
        }
        return removed;
    }

    /// <summary>The tag in <paramref name="slot"/>, or null if it is empty.</summary>
    public ulong? TagAt(int slot) => _slots[slot].Tag == 0 ? null : _slots[slot].Tag - 1;

    private struct Way
    {
        public ulong Tag;   // the tag plus one; 0 marks an empty way
        public ulong Stamp; // the access clock at the last use; 0 for an empty way
    }
}
