namespace Sim.Models.Kernel;

/// <summary>
/// A swap area (mm/swapfile.c's swap_info_struct): a run of the disk's sectors cut into 4 KiB
/// slots, and per slot the count of page-table entries and swap-cache pages that name it (its
/// swap_map byte). A slot is taken from where the last one was (scan_swap_map's cluster_next), so
/// that a reclaim pass's pages go to consecutive slots and their writes to consecutive sectors, as
/// Linux's cluster allocation arranges; it wraps to the start when it reaches the end.
/// </summary>
/// <remarks>
/// Model: one area (no priorities across several), placed at the end of the kernel's disk as a
/// swap partition would be; no discard, no cluster of free slots kept apart per CPU.
/// </remarks>
public sealed class SwapArea
{
    private readonly int[] _counts; // swap_map: the references to each slot; 0 when free
    private readonly ulong[] _contents; // what each slot holds on the disk: the page's content label
    private readonly ulong[]?[] _words; // and the words the model stores for it
    private int _next;

    /// <param name="slots">The area's 4 KiB slots.</param>
    /// <param name="firstSector">Where it starts on the disk, in 512-byte sectors.</param>
    public SwapArea(int slots, ulong firstSector)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        _counts = new int[slots];
        _contents = new ulong[slots];
        _words = new ulong[]?[slots];
        FirstSector = firstSector;
    }

    public int Slots => _counts.Length;

    /// <summary>The slots in use (inuse_pages).</summary>
    public int Used { get; private set; }

    /// <summary>The first sector of the area on the disk.</summary>
    public ulong FirstSector { get; }

    /// <summary>The disk sector where slot <paramref name="slot"/>'s 4 KiB begin.</summary>
    public ulong SectorOf(int slot) => FirstSector + ((ulong)slot * 8);

    /// <summary>get_swap_page: a free slot, counted once; false when the area is full.</summary>
    public bool TryAllocate(out int slot)
    {
        for (int looked = 0; looked < _counts.Length; looked++)
        {
            int s = (_next + looked) % _counts.Length;
            if (_counts[s] == 0)
            {
                _counts[s] = 1;
                _next = (s + 1) % _counts.Length;
                Used++;
                slot = s;
                return true;
            }
        }
        slot = -1;
        return false;
    }

    /// <summary>swap_duplicate: one more reference to <paramref name="slot"/> (a page-table entry copied at fork).</summary>
    public void Duplicate(int slot)
    {
        CheckInUse(slot);
        _counts[slot]++;
    }

    /// <summary>swap_free: one reference fewer; true when that was the last and the slot is free again.</summary>
    public bool Free(int slot)
    {
        CheckInUse(slot);
        if (--_counts[slot] > 0)
        {
            return false;
        }
        Used--;
        (_contents[slot], _words[slot]) = (0, null);
        return true;
    }

    /// <summary>The page written to <paramref name="slot"/>: its content label and stored words, as the disk keeps them.</summary>
    public void Store(int slot, ulong content, ulong[]? words)
    {
        CheckInUse(slot);
        (_contents[slot], _words[slot]) = (content, words);
    }

    /// <summary>What <paramref name="slot"/> holds, for a read.</summary>
    public (ulong Content, ulong[]? Words) Load(int slot)
    {
        CheckInUse(slot);
        return (_contents[slot], _words[slot]);
    }

    /// <summary>The references to <paramref name="slot"/>: 0 when free.</summary>
    public int References(int slot) => _counts[slot];

    private void CheckInUse(int slot)
    {
        if (slot < 0 || slot >= _counts.Length || _counts[slot] == 0)
        {
            throw new InvalidOperationException($"Swap slot {slot} is not in use (the area has {_counts.Length} slots).");
        }
    }
}
