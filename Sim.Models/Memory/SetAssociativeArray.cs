namespace Sim.Models.Memory;

/// <summary>
/// The lookup structure shared by caches, TLBs and paging-structure caches: sets of ways holding
/// 64-bit tags, with least-recently-used replacement by access stamps. The owner keeps whatever
/// each slot caches (a translation, a dirty bit) in its own arrays indexed by slot.
/// </summary>
/// <remarks>
/// Model: true LRU (the hardware uses pseudo-LRU variants whose exact policies are not
/// published). Stamps come from a 64-bit counter, so the order never wraps. A tag of 0 marks an
/// empty way: tags are stored plus one.
/// </remarks>
public sealed class SetAssociativeArray
{
    private readonly ulong[] _tags;
    private readonly ulong[] _stamps;
    private readonly int _ways;
    private readonly int _sets;
    private ulong _clock;

    public SetAssociativeArray(int sets, int ways)
    {
        if (sets <= 0 || ways <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sets), $"A set-associative array needs at least one set and one way (got {sets} x {ways}).");
        }
        _sets = sets;
        _ways = ways;
        _tags = new ulong[sets * ways];
        _stamps = new ulong[sets * ways];
    }

    public int Sets => _sets;

    public int Ways => _ways;

    public int Capacity => _tags.Length;

    /// <summary>The set a key maps to.</summary>
    public int SetOf(ulong key) => (int)(key % (ulong)_sets);

    /// <summary>The slot holding <paramref name="tag"/> in <paramref name="set"/>, made most recent; -1 when absent.</summary>
    public int Find(int set, ulong tag)
    {
        int first = set * _ways;
        ulong stored = tag + 1;
        for (int slot = first; slot < first + _ways; slot++)
        {
            if (_tags[slot] == stored)
            {
                _stamps[slot] = ++_clock;
                return slot;
            }
        }
        return -1;
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
            if (_tags[slot] == 0)
            {
                victim = slot;
                break;
            }
            if (_stamps[slot] < _stamps[victim])
            {
                victim = slot;
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
        int first = set * _ways;
        for (int slot = first; slot < first + _ways; slot++)
        {
            if (_tags[slot] == tag + 1)
            {
                _tags[slot] = 0;
                return true;
            }
        }
        return false;
    }

    /// <summary>Empties every slot whose tag satisfies <paramref name="match"/> (a flush); returns how many.</summary>
    public int InvalidateWhere(Func<ulong, int, bool> match)
    {
        int removed = 0;
        for (int slot = 0; slot < _tags.Length; slot++)
        {
            if (_tags[slot] != 0 && match(_tags[slot] - 1, slot))
            {
                _tags[slot] = 0;
                removed++;
            }
        }
        return removed;
    }

    /// <summary>The tag in <paramref name="slot"/>, or null if it is empty.</summary>
    public ulong? TagAt(int slot) => _tags[slot] == 0 ? null : _tags[slot] - 1;
}
