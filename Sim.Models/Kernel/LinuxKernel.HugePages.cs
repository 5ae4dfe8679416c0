using Sim.Engine.Statistics;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>
/// Transparent huge pages for anonymous memory (mm/huge_memory.c, with
/// /sys/kernel/mm/transparent_hugepage/enabled at "always"): a fault in a region whose 2 MiB-aligned
/// range lies wholly inside it, where no page table is there yet, maps one 2 MiB page with a
/// page-directory entry (PS set) instead of a 4 KiB page, zeroed whole. The kernel splits it back
/// into 512 page-table entries where it needs 4 KiB pages: a copy-on-write write to a huge page
/// another process still maps, and an mprotect whose range ends inside one. Fork copies it whole;
/// munmap and exit free it whole.
/// </summary>
/// <remarks>
/// Model: no huge zero page (a read fault allocates a huge page as a write does), no khugepaged
/// (4 KiB pages are never collapsed into a huge page), no compaction (a huge page comes from a whole
/// free 2 MiB run, or the fault falls back to 4 KiB pages), file pages never huge. The 512 pages of
/// a huge page are counted one by one for their references, so that a split page's 4 KiB pages
/// live and die on their own.
/// </remarks>
public sealed partial class LinuxKernel
{
    private const ulong HugePageBytes = PhysicalMemory.LargeFrameBytes;

    private readonly Dictionary<ulong, ulong> _deposited = []; // a huge page's directory entry -> the page table deposited for its split; looked up only
    private Counter? _hugeFaults;
    private Counter? _hugeFallbacks;
    private Counter? _hugeSplits;

    /// <summary>Whether anonymous memory is mapped with transparent huge pages where it can be (<see cref="EnableTransparentHugePages"/>).</summary>
    public bool TransparentHugePages { get; private set; }

    /// <summary>
    /// Turns transparent huge pages on ("always"), before the kernel's first process: the routines
    /// are laid out and the counters (kernel.thp) registered, so that a kernel without THP keeps its
    /// layout and statistics.
    /// </summary>
    /// <param name="khugepagedSleepMilliseconds">khugepaged's sleep between batches (<see cref="KhugepagedSleepMilliseconds"/>).</param>
    public void EnableTransparentHugePages(double khugepagedSleepMilliseconds = DefaultKhugepagedSleepMilliseconds)
    {
        if (TransparentHugePages)
        {
            return;
        }
        if (_nextPid != 1)
        {
            throw new InvalidOperationException("Transparent huge pages are turned on before the kernel's first process.");
        }
        _text.LayOutHugePageRoutines();
        _text.LayOutReclaimRoutines(); // now: huge pages take never-used memory 2 MiB at a time, leaving no contiguous run for a late layout
        StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel.thp");
        _hugeFaults = stats.Counter("fault_alloc", "count", "faults that mapped a 2 MiB huge page (thp_fault_alloc)");
        _hugeFallbacks = stats.Counter("fault_fallback", "count", "faults a huge page could have served that fell back to a 4 KiB page: no free 2 MiB run, or the memory cgroup's charge failed (thp_fault_fallback)");
        _hugeSplits = stats.Counter("split_pmd", "count", "huge pages split into 512 page-table entries (thp_split_pmd)");
        StartKhugepaged(stats, khugepagedSleepMilliseconds);
        TransparentHugePages = true;
    }

    /// <summary>
    /// Whether a huge page may serve a fault at <paramref name="address"/> of <paramref name="p"/>
    /// in <paramref name="region"/>: anonymous memory, the 2 MiB-aligned range wholly inside the
    /// region (transhuge_vma_suitable), and no page table there yet (pmd_none).
    /// </summary>
    private bool HugePageFits(Process p, MemoryRegion region, ulong address)
    {
        ulong start = address & ~(HugePageBytes - 1);
        if (TransparentHugePages && region.FileId is null)
        {
            EnterKhugepaged(p);
        }
        if (!TransparentHugePages || region.FileId is not null || start < region.Start || start + HugePageBytes > region.Start + (region.Pages * 4096))
        {
            return false;
        }
        return p.Space.DirectoryEntryAddress(start) is not { } pde || (Memory.ReadUInt64(pde) & PageEntry.Present) == 0;
    }

    /// <summary>
    /// do_huge_pmd_anonymous_page: the memory cgroup charged 512 pages, an order-9 page, zeroed
    /// whole (clear_huge_page), a page table deposited for a later split, and the directory entry
    /// set. False, with the fault to be served by a 4 KiB page, when the charge or the allocation
    /// fails (VM_FAULT_FALLBACK; a failed huge charge kills no one).
    /// </summary>
    private bool TryHugePageFault(KernelPath path, Process p, MemoryRegion region, ulong address)
    {
        ulong start = address & ~(HugePageBytes - 1);
        if (!TryNewChargedHugePage(path.Run(HugePageRoutine.Fault), p, out ulong first))
        {
            _hugeFallbacks!.Increment();
            return false;
        }
        path.StoreRange(DirectMap.Of(first), (long)HugePageBytes);
        p.Space.Map2M(start, first, PageEntry.User | (region.Writable ? PageEntry.Writable : 0));
        LinkNewTables(path, p.Space);
        ulong pde = p.Space.LeafEntryAddress(start)!.Value;
        _deposited[pde] = DepositTable(path);
        _ops.UpdatePageTableEntry(path, pde);
        _hugeFaults!.Increment();
        return true;
    }

    /// <summary>A huge page for <paramref name="p"/>: its memory cgroup charged 512 pages, then the page allocated and owned; false, with nothing charged, when either fails.</summary>
    private bool TryNewChargedHugePage(KernelPath path, Process p, out ulong first)
    {
        first = 0;
        if (!TryChargePage(path, p, pages: PageFrames.HugePageFrames))
        {
            return false;
        }
        if (!_frames.TryNewHugePage(path, out first))
        {
            p.Container?.Uncharge(cache: false, pages: PageFrames.HugePageFrames);
            return false;
        }
        for (ulong offset = 0; offset < HugePageBytes; offset += PhysicalMemory.FrameBytes)
        {
            OwnPage(p, first + offset);
        }
        return true;
    }

    /// <summary>pte_alloc_one for pgtable_trans_huge_deposit: a zeroed page table kept beside a huge page, so that splitting it never has to allocate.</summary>
    private ulong DepositTable(KernelPath path)
    {
        ulong table = Memory.AllocateFrame(_this.Node);
        PageAllocator(path).ZeroPage(table);
        return table;
    }

    /// <summary>
    /// __split_huge_pmd for the huge page of <paramref name="p"/> at <paramref name="address"/>:
    /// the deposited table filled with 512 entries mapping the same frames with the same rights,
    /// each page's map count raised, the directory entry pointed at the table, and the 2 MiB
    /// translation flushed here and on the address space's other CPUs.
    /// </summary>
    private void SplitHugePage(KernelPath path, Process p, ulong address)
    {
        ulong start = address & ~(HugePageBytes - 1);
        ulong pde = p.Space.LeafEntryAddress(start)!.Value;
        ulong first = Memory.ReadUInt64(pde) & PageEntry.LargeAddressMask;
        path.Load(pde).Run(HugePageRoutine.Split);
        ulong table = _deposited.Remove(pde, out ulong deposited) ? deposited : DepositTable(path);
        p.Space.SplitLargePage(start, table);
        path.Run(HugePageRoutine.SplitPerPage, times: PageFrames.HugePageFrames)
            .StoreRange(DirectMap.Of(table), PhysicalMemory.FrameBytes)
            .StoreRange(DirectMap.Of(_frames.Descriptor(first)), PageFrames.HugePageFrames * KernelObjects.PageDescriptorBytes);
        _ops.UpdatePageTableEntry(path, pde);
        _ops.FlushTlbPage(path, start);
        FlushOtherCpus(path, p.Mm, [start]);
        _hugeSplits!.Increment();
    }

    /// <summary>Splits the huge page at <paramref name="address"/> of <paramref name="p"/> if there is one and the address is not its first byte: where a region is cut (vma_adjust_trans_huge).</summary>
    private void SplitHugePageAcross(KernelPath path, Process p, ulong address)
    {
        if (address % HugePageBytes != 0 && IsHugeMapping(p, address))
        {
            SplitHugePage(path, p, address);
        }
    }

    /// <summary>Whether <paramref name="address"/> of <paramref name="p"/> lies in a present 2 MiB page.</summary>
    private bool IsHugeMapping(Process p, ulong address) =>
        p.Space.LeafEntryAddress(address) is { } leaf && IsHugeEntry(Memory.ReadUInt64(leaf));

    private static bool IsHugeEntry(ulong entry) => (entry & (PageEntry.Present | PageEntry.PageSize)) == (PageEntry.Present | PageEntry.PageSize);

    /// <summary>The physical address <paramref name="address"/> reaches through the present leaf <paramref name="entry"/> (a 4 KiB or a 2 MiB page).</summary>
    private static ulong PhysicalThrough(ulong entry, ulong address) => IsHugeEntry(entry)
        ? (entry & PageEntry.LargeAddressMask) | (address & (HugePageBytes - 1))
        : (entry & PageEntry.AddressMask) | (address & 0xFFF);

    /// <summary>zap_huge_pmd: the directory entry at <paramref name="pde"/> cleared, its deposited table freed, and the huge page's mapping dropped (whole pages given back are uncharged).</summary>
    private void ZapHugePage(KernelPath path, ulong pde)
    {
        ulong entry = Memory.ReadUInt64(pde);
        path.Load(pde).Run(HugePageRoutine.Zap);
        Memory.WriteUInt64(pde, 0);
        _ops.UpdatePageTableEntry(path, pde);
        if (_deposited.Remove(pde, out ulong table))
        {
            Memory.FreeFrame(table);
            path.Run(KernelRoutine.PerTableFree);
        }
        UnchargePages(path, _frames.ReleaseHuge(path, entry & PageEntry.LargeAddressMask));
    }

    /// <summary>
    /// copy_huge_pmd at fork, for the huge page at <paramref name="pde"/> of the parent mapping
    /// <paramref name="va"/>: the parent's entry write-protected, the child given the same 2 MiB
    /// page read-only with a deposited table of its own, and the page's references raised.
    /// </summary>
    private void CopyHugePage(KernelPath path, Process child, ulong pde, ulong va)
    {
        ulong entry = Memory.ReadUInt64(pde);
        path.Load(pde).Run(HugePageRoutine.Copy);
        if ((entry & PageEntry.Writable) != 0)
        {
            entry &= ~PageEntry.Writable;
            Memory.WriteUInt64(pde, entry);
            path.Atomic(pde); // pmdp_set_wrprotect
            _ops.UpdatePageTableEntry(path, pde);
        }
        ulong first = entry & PageEntry.LargeAddressMask;
        child.Space.Map2M(va, first, entry & (PageEntry.User | PageEntry.NoExecute));
        LinkNewTables(path, child.Space);
        ulong childPde = child.Space.LeafEntryAddress(va)!.Value;
        path.Store(childPde);
        _deposited[childPde] = DepositTable(path);
        _frames.TakeHugeReference(path, first);
    }

    /// <summary>
    /// A write to a write-protected huge page (do_huge_pmd_wp_page): a page no one else maps is
    /// made writable in place; one still shared (after a fork) is split, and the write is then a
    /// 4 KiB copy-on-write fault of the page it hit. Returns whether the write may go on without
    /// the 4 KiB path.
    /// </summary>
    private bool ReuseOrSplitHugePage(KernelPath path, Process p, ulong pde, ulong address)
    {
        ulong entry = Memory.ReadUInt64(pde);
        ulong first = entry & PageEntry.LargeAddressMask;
        path.Load(_frames.Descriptor(first)); // the compound page's map count
        bool shared = false;
        for (ulong offset = 0; offset < HugePageBytes && !shared; offset += PhysicalMemory.FrameBytes)
        {
            shared = _frames.IsShared(first + offset);
        }
        if (shared)
        {
            SplitHugePage(path, p, address);
            return false;
        }
        Memory.WriteUInt64(pde, entry | PageEntry.Writable);
        _ops.UpdatePageTableEntry(path, pde);
        _ops.FlushTlbPage(path, address);
        FlushOtherCpus(path, p.Mm, [address & ~(HugePageBytes - 1)]);
        return true;
    }

    /// <summary>
    /// The huge pages of a populated anonymous region that a process's start maps (what its touches
    /// before the run faulted in with THP on): each 2 MiB-aligned range wholly inside it, while a
    /// free 2 MiB run is left; the rest is left to 4 KiB pages. Returns the ranges mapped.
    /// </summary>
    private HashSet<ulong> MapHugeAtStart(Process p, MemoryRegion region, Container? container)
    {
        var mapped = new HashSet<ulong>(); // looked up only
        if (!TransparentHugePages || region.FileId is not null)
        {
            return mapped;
        }
        EnterKhugepaged(p);
        ulong end = region.Start + (region.Pages * 4096);
        for (ulong start = (region.Start + HugePageBytes - 1) & ~(HugePageBytes - 1); start + HugePageBytes <= end; start += HugePageBytes)
        {
            if (!Memory.TryAllocateLargeFrame(0, out ulong first))
            {
                break;
            }
            for (ulong offset = 0; offset < HugePageBytes; offset += PhysicalMemory.FrameBytes)
            {
                _frames.Mapped(first + offset);
                if (container is not null)
                {
                    container.Charge(cache: false);
                    OwnPage(p, first + offset);
                }
            }
            p.Space.Map2M(start, first, PageEntry.User | (region.Writable ? PageEntry.Writable : 0));
            _deposited[p.Space.LeafEntryAddress(start)!.Value] = Memory.AllocateFrame();
            mapped.Add(start);
        }
        return mapped;
    }
}
