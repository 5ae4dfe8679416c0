using Sim.Models.Memory;

namespace Sim.Models.Paging;

/// <summary>
/// The processor's EPT walk (Intel SDM Vol. 3C 28.2.2): translates a guest-physical address to a
/// host-physical one by reading the EPT entries in host memory, each reference through the core's
/// caches, starting below the root where the EPT paging-structure caches (SDM 28.3.1, "guest-
/// physical mappings") hold an upper-level entry. Used for every guest-physical address a guest
/// reference produces: each table of the guest's own walk, and the final page.
/// </summary>
/// <remarks>
/// Model: permissions are checked for reads and writes (execute is always granted by the
/// hypervisor's mappings here); EPT accessed and dirty flags are not set (they are optional, off in
/// the EPTP, and absent before Haswell).
/// </remarks>
public sealed class EptWalker
{
    private readonly PhysicalMemory _host;
    private readonly MemoryPath _path;
    private readonly PagingStructureCaches? _caches;
    private readonly ulong _pml4;
    private readonly TranslationTag _tag;

    /// <summary>Hears each translation's references, when set (<see cref="IWalkTracer"/>).</summary>
    public IWalkTracer? Tracer { get; set; }

    /// <param name="ept">The EPT walked.</param>
    /// <param name="host">Host memory, where its tables are.</param>
    /// <param name="path">The core's caches.</param>
    /// <param name="caches">The core's EPT paging-structure caches, shared by the EPTs of every guest on the core.</param>
    /// <param name="eptTag">The number that tells this EPT's cached entries from another's: the SDM associates guest-physical mappings with the EPT's root (EP4TA), and the model numbers the roots of a core 0, 1, ... in the VPID field of the tag.</param>
    public EptWalker(Ept ept, PhysicalMemory host, MemoryPath path, PagingStructureCaches? caches, byte eptTag = 0)
    {
        ArgumentNullException.ThrowIfNull(ept);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(path);
        (_host, _path, _caches, _pml4, _tag) = (host, path, caches, ept.Pml4, new TranslationTag(eptTag, 0));
    }

    /// <summary>
    /// Translates <paramref name="gpa"/>, adding the walk's references and cycles; false on an EPT
    /// violation (an entry not present, or one without the permission the access needs).
    /// <paramref name="pageShift"/> is the size of the EPT page found (12 or 21).
    /// </summary>
    public bool Translate(ulong gpa, MemoryAccessKind kind, ref int references, ref int cycles, out ulong hpa, out int pageShift)
    {
        ulong need = kind == MemoryAccessKind.Write ? EptEntry.Write : EptEntry.Read;
        (int level, ulong table, _) = _caches?.Lookup(gpa, _tag) ?? (3, 0, WalkRights.All);
        if (level == 3)
        {
            table = _pml4;
        }
        Tracer?.Starts(ept: true, level);
        while (true)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(gpa, level) * 8);
            int latency = _path.Access(entryAddress, MemoryAccessKind.Read);
            Tracer?.Reads(ept: true, level, entryAddress, latency);
            cycles += latency;
            _path.Now += (ulong)latency;
            references++;
            ulong entry = _host.ReadUInt64(entryAddress);
            if ((entry & need) == 0)
            {
                (hpa, pageShift) = (0, 0);
                return false;
            }
            bool large = level == 1 && (entry & EptEntry.LargePage) != 0;
            if (level == 0 || large)
            {
                pageShift = large ? PageEntry.LargePageShift : PageEntry.SmallPageShift;
                hpa = (entry & (large ? PageEntry.LargeAddressMask : PageEntry.AddressMask)) | (gpa & ((1UL << pageShift) - 1));
                return true;
            }
            table = entry & PageEntry.AddressMask;
            _caches?.Fill(gpa, _tag, level, table, WalkRights.All);
            level--;
        }
    }
}
