using Sim.Models.Memory;

namespace Sim.Models.Paging;

/// <summary>
/// The page-miss handler: walks the 4-level tables in <see cref="PhysicalMemory"/> as Intel SDM
/// Vol. 3A sections 4.5 to 4.8 describe. Each entry read is a memory reference through the
/// core's caches (<see cref="MemoryPath"/>), so a walk costs what its references cost. The walker
/// sets accessed bits on the way down, the dirty bit of the final entry on a write, and raises a
/// page fault with the SDM's error code.
/// </summary>
/// <remarks>
/// Model: CR0.WP = 1 (supervisor writes to read-only pages fault, as Linux runs), EFER.NXE = 1;
/// SMEP, SMAP and protection keys are not modelled; 1 GiB pages are not supported (a PDPTE with
/// PS set is reported as a reserved-bit fault), nor is a PML4E with PS set (reserved, as in the SDM).
/// Setting accessed and dirty bits costs no extra time: the line was just read.
/// </remarks>
public sealed class PageWalker
{
    private readonly PhysicalMemory _memory;
    private readonly MemoryPath _path;
    private readonly PagingStructureCaches? _caches;

    public PageWalker(PhysicalMemory memory, MemoryPath path, PagingStructureCaches? caches)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(path);
        _memory = memory;
        _path = path;
        _caches = caches;
    }

    /// <summary>Walks the tables rooted at <paramref name="pml4"/> for <paramref name="linearAddress"/>.</summary>
    public WalkResult Walk(ulong pml4, ushort pcid, ulong linearAddress, MemoryAccessKind kind, bool user)
    {
        PageFaultErrorCode access =
            (kind == MemoryAccessKind.Write ? PageFaultErrorCode.Write : 0) |
            (kind == MemoryAccessKind.Fetch ? PageFaultErrorCode.InstructionFetch : 0) |
            (user ? PageFaultErrorCode.User : 0);
        if (!PageEntry.IsCanonical(linearAddress))
        {
            return new WalkResult(TranslationFault.GeneralProtection, 0, 0, 0, default, false, 0, 0);
        }
        (int level, ulong table, WalkRights rights) = _caches?.Lookup(linearAddress, pcid) ?? (3, 0, WalkRights.All);
        if (level == 3)
        {
            table = pml4 & PageEntry.AddressMask;
        }
        int references = 0, cycles = 0;
        while (true)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(linearAddress, level) * 8);
            int latency = _path.Access(entryAddress, MemoryAccessKind.Read);
            cycles += latency;
            _path.Now += (ulong)latency; // the next level's reference leaves when this one's entry is back
            references++;
            ulong entry = _memory.ReadUInt64(entryAddress);
            if ((entry & PageEntry.Present) == 0)
            {
                return Faulted(access, references, cycles);
            }
            bool large = (entry & PageEntry.PageSize) != 0;
            if (large && level >= 2)
            {
                return Faulted(access | PageFaultErrorCode.Protection | PageFaultErrorCode.ReservedBit, references, cycles);
            }
            if ((entry & PageEntry.Accessed) == 0)
            {
                entry |= PageEntry.Accessed;
                _memory.WriteUInt64(entryAddress, entry);
            }
            rights = rights.And(entry);
            if (level == 0 || large)
            {
                if ((user && !rights.User) || (kind == MemoryAccessKind.Write && !rights.Writable) || (kind == MemoryAccessKind.Fetch && rights.NoExecute))
                {
                    return Faulted(access | PageFaultErrorCode.Protection, references, cycles);
                }
                if (kind == MemoryAccessKind.Write && (entry & PageEntry.Dirty) == 0)
                {
                    _memory.WriteUInt64(entryAddress, entry | PageEntry.Dirty);
                }
                int shift = large ? PageEntry.LargePageShift : PageEntry.SmallPageShift;
                ulong pageBase = entry & (large ? PageEntry.LargeAddressMask : PageEntry.AddressMask);
                return new WalkResult(TranslationFault.None, 0, pageBase, shift, rights, (entry & PageEntry.Global) != 0, references, cycles);
            }
            table = entry & PageEntry.AddressMask;
            _caches?.Fill(linearAddress, pcid, level, table, rights);
            level--;
        }
    }

    private static WalkResult Faulted(PageFaultErrorCode code, int references, int cycles) =>
        new(TranslationFault.PageFault, code, 0, 0, default, false, references, cycles);
}
