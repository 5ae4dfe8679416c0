using Sim.Models.Memory;

namespace Sim.Models.Paging;

/// <summary>
/// One virtual machine's extended page tables (Intel SDM Vol. 3C 28.2): a 4-level tree in host
/// physical memory, in the real entry format of <see cref="EptEntry"/>, translating guest-physical
/// addresses to host-physical ones. The hypervisor builds it with ordinary stores (here, at VM
/// creation: <see cref="Map"/>); the processor walks it (<see cref="EptWalker"/>) whenever a guest
/// reference needs a guest-physical address translated. Pages the hypervisor leaves unmapped,
/// such as the guest's device registers, make every access to them an EPT violation.
/// </summary>
public sealed class Ept
{
    private readonly PhysicalMemory _host;

    public Ept(PhysicalMemory host)
    {
        ArgumentNullException.ThrowIfNull(host);
        _host = host;
        Pml4 = host.AllocateFrame();
    }

    /// <summary>
    /// The host memory the tables of a VM's EPT take when <see cref="Map"/> maps its
    /// <paramref name="guestBytes"/> from guest-physical 0: one 4 KiB table per 512 entries at each
    /// level (none at the leaf level with 2 MiB pages). A hypervisor must find these beside the
    /// guest's memory: about 1 MiB per 512 MiB guest with 4 KiB pages.
    /// </summary>
    public static ulong TableBytes(ulong guestBytes, bool largePages)
    {
        ulong tables = 0;
        for (int level = largePages ? 1 : 0; level <= 3; level++)
        {
            int covered = PageEntry.SmallPageShift + (9 * (level + 1)); // what one table of this level maps
            tables += Math.Max(1, (guestBytes + (1UL << covered) - 1) >> covered);
        }
        return tables << PageEntry.SmallPageShift;
    }

    /// <summary>The host-physical address of the EPT PML4 table.</summary>
    public ulong Pml4 { get; }

    /// <summary>The host frames the tables take: the PML4 and every table made since.</summary>
    public int TableFrames { get; private set; } = 1;

    private readonly List<(ulong Table, ulong Link)> _newTables = [];

    /// <summary>The tables <see cref="Map"/> made since the last call, each with the address of the entry that links it in: the stores a hypervisor that maps on demand makes (a table zeroed, then linked).</summary>
    public IReadOnlyList<(ulong Table, ulong Link)> TakeNewTables()
    {
        (ulong, ulong)[] made = [.. _newTables];
        _newTables.Clear();
        return made;
    }

    /// <summary>The host-physical address of the entry that maps <paramref name="gpa"/> at <paramref name="level"/> (0 for a 4 KiB page, 1 for a 2 MiB one), whose tables must exist.</summary>
    public ulong EntryAddress(ulong gpa, int level) => TableFor(gpa, level) + ((ulong)PageEntry.Index(gpa, level) * 8);

    /// <summary>The host-physical address of the 4 KiB entry of <paramref name="gpa"/>, or null where no page table holds one (a table on the way missing, or a 2 MiB entry in its place); makes nothing.</summary>
    public ulong? ExistingEntryAddress(ulong gpa)
    {
        ulong table = Pml4;
        for (int level = 3; level > 0; level--)
        {
            ulong entry = _host.ReadUInt64(table + ((ulong)PageEntry.Index(gpa, level) * 8));
            if (!EptEntry.IsPresent(entry) || (entry & EptEntry.LargePage) != 0)
            {
                return null;
            }
            table = entry & PageEntry.AddressMask;
        }
        return table + ((ulong)PageEntry.Index(gpa, 0) * 8);
    }

    /// <summary>
    /// Maps <paramref name="bytes"/> of guest-physical memory from <paramref name="guestPhysical"/>
    /// onto host-physical memory from <paramref name="hostPhysical"/>, readable, writable and
    /// executable, write-back; with 2 MiB pages where <paramref name="largePages"/> and the
    /// addresses allow, otherwise 4 KiB pages.
    /// </summary>
    public void Map(ulong guestPhysical, ulong hostPhysical, ulong bytes, bool largePages)
    {
        const ulong Small = 1UL << PageEntry.SmallPageShift, Large = 1UL << PageEntry.LargePageShift;
        if ((guestPhysical | hostPhysical | bytes) % Small != 0)
        {
            throw new ArgumentException("EPT mappings cover whole 4 KiB pages.");
        }
        for (ulong offset = 0; offset < bytes;)
        {
            ulong gpa = guestPhysical + offset, hpa = hostPhysical + offset;
            if (largePages && (gpa | hpa) % Large == 0 && bytes - offset >= Large)
            {
                _host.WriteUInt64(TableFor(gpa, 1) + ((ulong)PageEntry.Index(gpa, 1) * 8), (hpa & PageEntry.LargeAddressMask) | Leaf | EptEntry.LargePage);
                offset += Large;
            }
            else
            {
                _host.WriteUInt64(TableFor(gpa, 0) + ((ulong)PageEntry.Index(gpa, 0) * 8), (hpa & PageEntry.AddressMask) | Leaf);
                offset += Small;
            }
        }
    }

    /// <summary>The flags of a leaf the hypervisor maps guest memory with: readable, writable, executable, write-back.</summary>
    private const ulong Leaf = EptEntry.ReadWriteExecute | EptEntry.WriteBack | EptEntry.IgnorePat;

    /// <summary>
    /// Points the 4 KiB entry of <paramref name="gpa"/> at <paramref name="hostPhysical"/>, writable
    /// or not: a page the host shares copy-on-write is mapped without write permission, so that a
    /// guest's write to it is an EPT violation. Returns the entry's address (the hypervisor's store).
    /// </summary>
    public ulong MapPage(ulong gpa, ulong hostPhysical, bool writable)
    {
        ulong entry = EntryAddress(gpa, 0);
        _host.WriteUInt64(entry, (hostPhysical & PageEntry.AddressMask) | (writable ? Leaf : Leaf & ~EptEntry.Write));
        return entry;
    }

    /// <summary>The table of <paramref name="level"/> that holds <paramref name="gpa"/>'s entry, made on the way down where missing.</summary>
    private ulong TableFor(ulong gpa, int level)
    {
        ulong table = Pml4;
        for (int l = 3; l > level; l--)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(gpa, l) * 8);
            ulong entry = _host.ReadUInt64(entryAddress);
            if (!EptEntry.IsPresent(entry))
            {
                ulong next = _host.AllocateFrame();
                entry = next | EptEntry.ReadWriteExecute;
                _host.WriteUInt64(entryAddress, entry);
                TableFrames++;
                _newTables.Add((next, entryAddress));
            }
            else if ((entry & EptEntry.LargePage) != 0)
            {
                throw new InvalidOperationException($"Guest-physical 0x{gpa:X} is already mapped by a 2 MiB EPT page.");
            }
            table = entry & PageEntry.AddressMask;
        }
        return table;
    }
}
