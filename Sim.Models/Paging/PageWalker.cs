using Sim.Models.Memory;

namespace Sim.Models.Paging;

/// <summary>
/// The page-miss handler: walks the 4-level tables in <see cref="PhysicalMemory"/> as Intel SDM
/// Vol. 3A sections 4.5 to 4.8 describe. Each entry read is a memory reference through the
/// core's caches (<see cref="MemoryPath"/>), so a walk costs what its references cost. The walker
/// sets accessed bits on the way down, the dirty bit of the final entry on a write, and raises a
/// page fault with the SDM's error code.
/// With an <see cref="EptWalker"/> it is the two-dimensional walk of a guest under EPT (SDM Vol. 3C
/// 28.2.1; Bhargava et al., ASPLOS 2008): the tables are the guest's, in guest-physical memory,
/// so the address of each guest table and of the final page is itself translated by an EPT walk
/// before it is referenced; with no cache hit anywhere that is 4 x (4 + 1) + 4 = 24 references
/// for a 4-level guest under a 4-level EPT.
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
    private readonly EptWalker? _ept;
    private IWalkTracer? _tracer;

    /// <param name="memory">Where the tables' contents live: host memory, or a guest's guest-physical memory under EPT.</param>
    /// <param name="path">The core's caches.</param>
    /// <param name="caches">The paging-structure caches, if the walk may use them.</param>
    /// <param name="ept">The EPT walk that turns the guest's physical addresses into host ones, for a guest under nested paging.</param>
    public PageWalker(PhysicalMemory memory, MemoryPath path, PagingStructureCaches? caches, EptWalker? ept = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(path);
        _memory = memory;
        _path = path;
        _caches = caches;
        _ept = ept;
    }

    /// <summary>Hears each walk's references, and its EPT walks' (<see cref="IWalkTracer"/>), when set.</summary>
    public IWalkTracer? Tracer
    {
        get => _tracer;
        set
        {
            _tracer = value;
            if (_ept is not null)
            {
                _ept.Tracer = value;
            }
        }
    }

    /// <summary>Walks the tables rooted at <paramref name="pml4"/> for <paramref name="linearAddress"/>.</summary>
    public WalkResult Walk(ulong pml4, TranslationTag tag, ulong linearAddress, MemoryAccessKind kind, bool user)
    {
        PageFaultErrorCode access =
            (kind == MemoryAccessKind.Write ? PageFaultErrorCode.Write : 0) |
            (kind == MemoryAccessKind.Fetch ? PageFaultErrorCode.InstructionFetch : 0) |
            (user ? PageFaultErrorCode.User : 0);
        if (!PageEntry.IsCanonical(linearAddress))
        {
            return new WalkResult(TranslationFault.GeneralProtection, 0, 0, 0, default, false, 0, 0);
        }
        (int level, ulong table, WalkRights rights) = _caches?.Lookup(linearAddress, tag) ?? (3, 0, WalkRights.All);
        if (level == 3)
        {
            table = pml4 & PageEntry.AddressMask;
        }
        _tracer?.Starts(ept: false, level);
        int references = 0, cycles = 0;
        while (true)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(linearAddress, level) * 8);
            ulong referenced = entryAddress;
            if (_ept is not null && !_ept.Translate(entryAddress, MemoryAccessKind.Read, ref references, ref cycles, out referenced, out _))
            {
                return EptViolation(entryAddress, references, cycles);
            }
            int latency = _path.Access(referenced, MemoryAccessKind.Read);
            _tracer?.Reads(ept: false, level, referenced, latency);
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
                bool global = (entry & PageEntry.Global) != 0;
                if (_ept is null)
                {
                    return new WalkResult(TranslationFault.None, 0, pageBase, shift, rights, global, references, cycles);
                }
                // The guest's page is a guest-physical one: one more EPT walk gives the host page,
                // and the translation is only as large as the smaller of the two pages.
                ulong gpa = pageBase | (linearAddress & ((1UL << shift) - 1));
                if (!_ept.Translate(gpa, kind, ref references, ref cycles, out ulong hpa, out int eptShift))
                {
                    return EptViolation(gpa, references, cycles);
                }
                shift = Math.Min(shift, eptShift);
                return new WalkResult(TranslationFault.None, 0, hpa & ~((1UL << shift) - 1), shift, rights, global, references, cycles);
            }
            table = entry & PageEntry.AddressMask;
            _caches?.Fill(linearAddress, tag, level, table, rights);
            level--;
        }
    }

    private static WalkResult EptViolation(ulong gpa, int references, int cycles) =>
        new(TranslationFault.EptViolation, 0, 0, 0, default, false, references, cycles, gpa);

    private static WalkResult Faulted(PageFaultErrorCode code, int references, int cycles) =>
        new(TranslationFault.PageFault, code, 0, 0, default, false, references, cycles);
}
