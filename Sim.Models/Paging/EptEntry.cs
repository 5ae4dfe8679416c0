namespace Sim.Models.Paging;

/// <summary>
/// The bits of an EPT paging-structure entry (Intel SDM Vol. 3C 28.2.2, Tables 28-1 to 28-6):
/// read, write and supervisor-execute permissions in bits 2:0 (an entry with all three clear is
/// not present), the memory type of a leaf in bits 5:3, ignore-PAT in bit 6, a 2 MiB page in a
/// PDE with bit 7, the accessed and dirty flags in bits 8 and 9 (used only when the EPTP enables
/// them), and the physical address in bits 51:12.
/// </summary>
public static class EptEntry
{
    public const ulong Read = 1UL << 0;
    public const ulong Write = 1UL << 1;
    public const ulong Execute = 1UL << 2;
    public const ulong ReadWriteExecute = Read | Write | Execute;

    /// <summary>Memory type 6, write-back, in bits 5:3 of a leaf (SDM Vol. 3C 28.2.7).</summary>
    public const ulong WriteBack = 6UL << 3;

    public const ulong IgnorePat = 1UL << 6;
    public const ulong LargePage = 1UL << 7;
    public const ulong Accessed = 1UL << 8;
    public const ulong Dirty = 1UL << 9;

    public static bool IsPresent(ulong entry) => (entry & ReadWriteExecute) != 0;
}
