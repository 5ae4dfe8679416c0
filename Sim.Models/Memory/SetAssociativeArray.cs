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
    // Tags and stamps in separate arrays: a set's tags are contiguous, so a lookup is one
    // vectorised search; the stamps are scanned only to choose a victim.
    private readonly ulong[] _tags;   // the tag plus one; 0 marks an empty way
    private readonly ulong[] _stamps; // the access clock at the last use; 0 for an empty way
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
        _tags = new ulong[sets * ways];
        _stamps = new ulong[sets * ways];
    }

    public int Sets => _sets;

    public int Ways => _ways;

    public int Capacity => _tags.Length;

    /// <summary>The set a key maps to.</summary>
    public int SetOf(ulong key) => (int)(_setMask != 0 || _sets == 1 ? key & _setMask : key % (ulong)_sets); // a mask, not a 64-bit division, on the hot path

    /// <summary>The slot holding <paramref name="tag"/> in <paramref name="set"/>, made most recent; -1 when absent.</summary>
    public int Find(int set, ulong tag)
    {
        int slot = SlotOf(set, tag);
        if (slot >= 0)
        {
            _stamps[slot] = ++_clock;
        }
        return slot;
    }

    /// <summary>
    /// <see cref="Find"/> and, on a miss, <see cref="Insert"/>: the slot of
    /// <paramref name="tag"/>, made most recent; <paramref name="hit"/> says whether it was there,
    /// <paramref name="evictedTag"/> what a miss replaced.
    /// </summary>
    public int FindOrInsert(int set, ulong tag, out bool hit, out ulong? evictedTag)
    {
        int slot = SlotOf(set, tag);
        hit = slot >= 0;
        if (hit)
        {
            _stamps[slot] = ++_clock;
            evictedTag = null;
            return slot;
        }
        return Insert(set, tag, out evictedTag);
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
        for (int slot = first + 1; slot < first + _ways; slot++)
        {
            if (_stamps[slot] < _stamps[victim])
            {
                victim = slot; // an empty way has stamp 0, so it is always the victim of choice
            }
        }
        evictedTag = _tags[victim] == 0 ? null : _tags[victim] - 1;
        _tags[victim] = tag + 1;
        _stamps[victim] = ++_clock;
        return victim;
    }

    /// <summary>Empties the slot holding <paramref name="tag"/> in <paramref name="set"/>; false when absent.</summary>
    public bool Invalidate(int set, ulong tag)
    {
        int slot = SlotOf(set, tag);
        if (slot < 0)
        {
            return false;
        }
        (_tags[slot], _stamps[slot]) = (0, 0);
        return true;
    }

    /// <summary>Empties every slot whose tag satisfies <paramref name="match"/> (a flush); returns how many.</summary>
    public int InvalidateWhere(Func<ulong, int, bool> match)
    {
        int removed = 0;
        for (int slot = 0; slot < _tags.Length; slot++)
        {
            if (_tags[slot] != 0 && match(_tags[slot] - 1, slot))
            {
                (_tags[slot], _stamps[slot]) = (0, 0);
                removed++;
            }
        }
        return removed;
    }

    /// <summary>The slot holding <paramref name="tag"/> in <paramref name="set"/> without touching its recency; -1 when absent.</summary>
    public int Peek(int set, ulong tag) => SlotOf(set, tag);

    /// <summary>The tag in <paramref name="slot"/>, or null if it is empty.</summary>
    public ulong? TagAt(int slot) => _tags[slot] == 0 ? null : _tags[slot] - 1;

    private int SlotOf(int set, ulong tag)
    {
        int first = set * _ways;
        int way = _tags.AsSpan(first, _ways).IndexOf(tag + 1);
        return way < 0 ? -1 : first + way;
    }
}
