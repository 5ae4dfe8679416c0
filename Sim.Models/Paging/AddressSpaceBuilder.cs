using Sim.Models.Memory;

namespace Sim.Models.Paging;

/// <summary>
/// Builds and edits a real 4-level page-table tree in <see cref="PhysicalMemory"/>: what an
/// operating system's memory manager does with ordinary stores. Intermediate entries are made
/// present, writable and user-accessible, so the leaf entry alone decides the page's rights (as
/// Linux does). Editing entries here does not touch any TLB: invalidating is the kernel's job.
/// </summary>
public sealed class AddressSpaceBuilder
{
    private readonly PhysicalMemory _memory;
    private readonly Func<int> _node;
    private readonly List<(ulong Table, ulong Link)> _newTables = [];

    /// <param name="memory">The memory the tables live in.</param>
    /// <param name="node">The NUMA node each new table comes from, asked when it is made (a kernel's: the node of the CPU making it, as pte_alloc allocates locally); node 0 by default.</param>
    public AddressSpaceBuilder(PhysicalMemory memory, Func<int>? node = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        _node = node ?? (() => 0);
        Pml4 = memory.AllocateFrame(_node());
    }

    /// <summary>The physical address of the PML4 table: what CR3 holds (without a PCID).</summary>
    public ulong Pml4 { get; }

    /// <summary>
    /// The tables made since the last call (below the PML4), each with the address of the entry
    /// that links it into its parent: what a kernel's path must zero and link with stores of its
    /// own (pte_alloc, pmd_alloc), since the builder writes memory without simulated time.
    /// </summary>
    public IReadOnlyList<(ulong Table, ulong Link)> TakeNewTables()
    {
        (ulong, ulong)[] made = [.. _newTables];
        _newTables.Clear();
        return made;
    }

    /// <summary>Maps the 4 KiB page at <paramref name="linearAddress"/> to <paramref name="physicalAddress"/> with <paramref name="flags"/> (Present is added unless <paramref name="present"/> is false: a page the kernel will fix up on the first fault).</summary>
    public void Map4K(ulong linearAddress, ulong physicalAddress, ulong flags, bool present = true)
    {
        CheckAligned(linearAddress, physicalAddress, PageEntry.SmallPageShift);
        ulong table = TableFor(linearAddress, 0);
        ulong entry = (physicalAddress & PageEntry.AddressMask) | (flags & ~PageEntry.Present) | (present ? PageEntry.Present : 0);
        _memory.WriteUInt64(table + ((ulong)PageEntry.Index(linearAddress, 0) * 8), entry);
    }

    /// <summary>Shares the upper (kernel) half of <paramref name="kernel"/>'s tree: PML4 entries 256-511 point at the same tables, as every process of a kernel sees the kernel.</summary>
    public void ShareKernelHalf(AddressSpaceBuilder kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        for (ulong i = 256; i < 512; i++)
        {
            _memory.WriteUInt64(Pml4 + (i * 8), _memory.ReadUInt64(kernel.Pml4 + (i * 8)));
        }
    }

    /// <summary>Maps the 2 MiB page at <paramref name="linearAddress"/> (a PDE with PS set).</summary>
    public void Map2M(ulong linearAddress, ulong physicalAddress, ulong flags)
    {
        CheckAligned(linearAddress, physicalAddress, PageEntry.LargePageShift);
        ulong table = TableFor(linearAddress, 1);
        _memory.WriteUInt64(table + ((ulong)PageEntry.Index(linearAddress, 1) * 8),
            (physicalAddress & PageEntry.LargeAddressMask) | flags | PageEntry.Present | PageEntry.PageSize);
    }

    /// <summary>
    /// Replaces the 2 MiB page at <paramref name="linearAddress"/> with the page table
    /// <paramref name="table"/> (a zeroed frame), filled with 512 entries that map the same frames
    /// with the same rights, accessed and dirty bits (what split_huge_pmd writes); the directory
    /// entry then points at the table. Returns the directory entry's address.
    /// </summary>
    public ulong SplitLargePage(ulong linearAddress, ulong table)
    {
        CheckAligned(linearAddress, table, PageEntry.SmallPageShift);
        ulong pde = LeafEntryAddress(linearAddress) ?? throw new InvalidOperationException($"0x{linearAddress:X} is not mapped.");
        ulong entry = _memory.ReadUInt64(pde);
        if ((entry & (PageEntry.Present | PageEntry.PageSize)) != (PageEntry.Present | PageEntry.PageSize))
        {
            throw new InvalidOperationException($"0x{linearAddress:X} does not lie in a 2 MiB page.");
        }
        const ulong Kept = PageEntry.Present | PageEntry.Writable | PageEntry.User | PageEntry.WriteThrough | PageEntry.CacheDisable
            | PageEntry.Accessed | PageEntry.Dirty | PageEntry.Global | PageEntry.NoExecute;
        ulong first = entry & PageEntry.LargeAddressMask;
        for (ulong i = 0; i < 512; i++)
        {
            _memory.WriteUInt64(table + (i * 8), (first + (i << PageEntry.SmallPageShift)) | (entry & Kept));
        }
        _memory.WriteUInt64(pde, table | PageEntry.Present | PageEntry.Writable | PageEntry.User);
        return pde;
    }

    /// <summary>
    /// Frees the tables of the user half (PML4 entries 0-255) and the PML4 itself, as a kernel does
    /// when a process exits after unmapping its pages; the shared kernel half is left alone.
    /// Returns the number of table frames freed. The builder must not be used afterwards.
    /// </summary>
    public int ReleaseUserHalf()
    {
        int freed = 0;
        for (ulong i = 0; i < 256; i++)
        {
            ulong entry = _memory.ReadUInt64(Pml4 + (i * 8));
            if ((entry & PageEntry.Present) != 0)
            {
                freed += FreeTable(entry & PageEntry.AddressMask, level: 2);
            }
        }
        _memory.FreeFrame(Pml4);
        return freed + 1;
    }

    private int FreeTable(ulong table, int level)
    {
        int freed = 0;
        if (level > 0)
        {
            for (ulong i = 0; i < 512; i++)
            {
                ulong entry = _memory.ReadUInt64(table + (i * 8));
                if ((entry & PageEntry.Present) != 0 && (entry & PageEntry.PageSize) == 0)
                {
                    freed += FreeTable(entry & PageEntry.AddressMask, level - 1);
                }
            }
        }
        _memory.FreeFrame(table);
        return freed + 1;
    }

    /// <summary>
    /// The physical address of the page-directory entry (level 1) covering
    /// <paramref name="linearAddress"/>, or null if a table above it is missing: where a 2 MiB page
    /// would go, or the link to the page table that is there.
    /// </summary>
    public ulong? DirectoryEntryAddress(ulong linearAddress)
    {
        ulong table = Pml4;
        for (int level = 3; level > 1; level--)
        {
            ulong entry = _memory.ReadUInt64(table + ((ulong)PageEntry.Index(linearAddress, level) * 8));
            if ((entry & PageEntry.Present) == 0)
            {
                return null;
            }
            table = entry & PageEntry.AddressMask;
        }
        return table + ((ulong)PageEntry.Index(linearAddress, 1) * 8);
    }

    /// <summary>The physical address of the leaf entry mapping <paramref name="linearAddress"/>, or null if a table on the way is missing.</summary>
    public ulong? LeafEntryAddress(ulong linearAddress)
    {
        ulong table = Pml4;
        for (int level = 3; level >= 0; level--)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(linearAddress, level) * 8);
            ulong entry = _memory.ReadUInt64(entryAddress);
            if (level == 0 || (level == 1 && (entry & PageEntry.PageSize) != 0))
            {
                return entryAddress;
            }
            if ((entry & PageEntry.Present) == 0)
            {
                return null;
            }
            table = entry & PageEntry.AddressMask;
        }
        return null;
    }

    /// <summary>The table at <paramref name="level"/> that holds the entry for <paramref name="linearAddress"/>, creating tables above it as needed.</summary>
    private ulong TableFor(ulong linearAddress, int level)
    {
        if (!PageEntry.IsCanonical(linearAddress))
        {
            throw new ArgumentException($"0x{linearAddress:X} is not a canonical 48-bit linear address.", nameof(linearAddress));
        }
        ulong table = Pml4;
        for (int l = 3; l > level; l--)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(linearAddress, l) * 8);
            ulong entry = _memory.ReadUInt64(entryAddress);
            if ((entry & PageEntry.Present) == 0)
            {
                ulong next = _memory.AllocateFrame(_node());
                entry = next | PageEntry.Present | PageEntry.Writable | PageEntry.User;
                _memory.WriteUInt64(entryAddress, entry);
                _newTables.Add((next, entryAddress));
            }
            else if ((entry & PageEntry.PageSize) != 0)
            {
                throw new InvalidOperationException($"0x{linearAddress:X} lies in a large page; split it before mapping 4 KiB pages there.");
            }
            table = entry & PageEntry.AddressMask;
        }
        return table;
    }

    private static void CheckAligned(ulong linearAddress, ulong physicalAddress, int shift)
    {
        ulong mask = (1UL << shift) - 1;
        if ((linearAddress & mask) != 0 || (physicalAddress & mask) != 0)
        {
            throw new ArgumentException($"Both addresses must be aligned to {1UL << shift} bytes (got 0x{linearAddress:X} -> 0x{physicalAddress:X}).");
        }
    }
}
