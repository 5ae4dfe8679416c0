namespace Sim.Models.Memory;

/// <summary>
/// Prefetched lines still on their way, and the cycle each one's data arrives: direct-mapped by
/// line number, so a lookup needs no hashing (a later prefetch to the same slot forgets the
/// earlier line's wait, a small optimism). A demand access takes its line's entry once.
/// </summary>
internal sealed class ArrivalTable
{
    private const int Slots = 4096;
    private readonly ulong[] _lines = new ulong[Slots]; // the line number plus one; 0 marks an empty slot
    private readonly ulong[] _cycles = new ulong[Slots];

    public void Record(ulong line, ulong arrivalCycle)
    {
        int slot = (int)(line % Slots);
        (_lines[slot], _cycles[slot]) = (line + 1, arrivalCycle);
    }

    /// <summary>Whether <paramref name="line"/> is a prefetched line not yet used, and when it arrives; the entry is consumed.</summary>
    public bool TryTake(ulong line, out ulong arrivalCycle)
    {
        int slot = (int)(line % Slots);
        arrivalCycle = _cycles[slot];
        if (_lines[slot] != line + 1)
        {
            return false;
        }
        _lines[slot] = 0;
        return true;
    }
}
