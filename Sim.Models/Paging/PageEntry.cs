namespace Sim.Models.Paging;

/// <summary>
/// The bits of an x86-64 (IA-32e, 4-level) paging-structure entry, as in Intel SDM Vol. 3A,
/// Tables 4-14 to 4-20: the same low bits at every level; PS marks a 2 MiB page in a PDE.
/// </summary>
public static class PageEntry
{
    public const ulong Present = 1UL << 0;
    public const ulong Writable = 1UL << 1;
    public const ulong User = 1UL << 2;
    public const ulong WriteThrough = 1UL << 3;
    public const ulong CacheDisable = 1UL << 4;
    public const ulong Accessed = 1UL << 5;
    public const ulong Dirty = 1UL << 6;
    public const ulong PageSize = 1UL << 7;
    public const ulong Global = 1UL << 8;
    public const ulong NoExecute = 1UL << 63;

    /// <summary>Bits 51:12: the physical address of the next table or of a 4 KiB page.</summary>
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;

    /// <summary>Bits 51:21: the physical address of a 2 MiB page.</summary>
    public const ulong LargeAddressMask = 0x000F_FFFF_FFE0_0000UL;

    public const int SmallPageShift = 12;
    public const int LargePageShift = 21;

    /// <summary>The index into the table of <paramref name="level"/> (3 = PML4 ... 0 = page table) for a linear address.</summary>
    public static int Index(ulong linearAddress, int level) => (int)((linearAddress >> (SmallPageShift + (9 * level))) & 511);

    /// <summary>Whether bits 63:47 of a linear address are all equal, as 48-bit linear addresses require.</summary>
    public static bool IsCanonical(ulong linearAddress)
    {
        ulong top = linearAddress >> 47;
        return top == 0 || top == 0x1_FFFF;
    }
}
