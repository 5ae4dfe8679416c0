using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>Memory: mmap, munmap and mprotect, demand-zero and copy-on-write faults, frame reference counts.</summary>
public sealed partial class LinuxKernel
{
    /// <summary>An anonymous private mapping of <paramref name="pages"/> pages: a new region, demand-zero; returns its address.</summary>
    private static ulong Map(KernelPath path, Process p, ulong pages)
    {
        path.Run(KernelRoutine.Mmap);
        ulong start = p.NextMapBase;
        p.NextMapBase += (pages + 1) * 4096; // a guard page between mappings
        p.AddRegion(new MemoryRegion("mmap", start, pages, Writable: true, Populated: false));
        return start;
    }

    /// <summary>munmap of the region starting at <paramref name="start"/>: its resident pages are freed and their translations flushed.</summary>
    private void Unmap(KernelPath path, Process p, ulong start)
    {
        path.Run(KernelRoutine.Mmap);
        if (p.Regions.FirstOrDefault(r => r.Start == start) is not { } region)
        {
            return;
        }
        var flushed = new List<ulong>();
        for (ulong page = 0; page < region.Pages; page++)
        {
            ulong va = region.Start + (page * 4096);
            if (UnmapPage(path, p, va))
            {
                _ops.FlushTlbPage(path, va);
                flushed.Add(va);
            }
        }
        p.RemoveRegion(region);
        FlushOtherCpus(path, p.Mm, flushed);
    }

    /// <summary>mprotect's protection bits (include/uapi/asm-generic/mman-common.h).</summary>
    public const long ProtRead = 1, ProtWrite = 2, ProtExec = 4;

    private const long Enomem = -12;

    /// <summary>
    /// mprotect of the pages from <paramref name="start"/> for <paramref name="length"/> bytes,
    /// which must lie in one region (VMA): the region is split where the range begins and ends
    /// (mprotect_fixup), and when write permission goes, every present entry of the range loses
    /// its writable bit (change_pte_range) and the pages are flushed here and, by IPI, on every
    /// other CPU that may hold the address space (flush_tlb_range). Permission given back leaves
    /// the entries read-only, as 2.6 kernels leave a private mapping's: the next write takes a
    /// write-protect fault that makes the page writable (or copies it if it is shared).
    /// </summary>
    /// <remarks>Model: only the write permission changes (PROT_NONE and PROT_EXEC are not modelled: pages stay readable and executable); a range over several regions fails with ENOMEM.</remarks>
    private long Protect(KernelPath path, Process p, ulong start, ulong length, long protection)
    {
        _text.LayOutAddedRoutines();
        path.Run(AddedRoutine.Mprotect);
        ulong pages = (length + 4095) / 4096;
        if (start % 4096 != 0 || (protection & ~(ProtRead | ProtWrite | ProtExec)) != 0)
        {
            return Einval;
        }
        if (pages == 0)
        {
            return 0;
        }
        ulong end = start + (pages * 4096);
        if (p.RegionOf(start) is not { } region || end > region.Start + (region.Pages * 4096))
        {
            return Enomem;
        }
        bool writable = (protection & ProtWrite) != 0;
        if (region.Writable != writable)
        {
            ulong regionEnd = region.Start + (region.Pages * 4096);
            MemoryRegion[] parts =
            [
                region with { Pages = (start - region.Start) / 4096 },
                region with { Start = start, Pages = pages, Writable = writable },
                region with { Start = end, Pages = (regionEnd - end) / 4096 },
            ];
            p.Mm.ReplaceRegion(region, parts.Where(r => r.Pages > 0));
        }
        if (writable)
        {
            return 0;
        }
        SplitHugePageAcross(path, p, start); // huge pages the new region boundaries cut
        SplitHugePageAcross(path, p, end);
        var flushed = new List<ulong>();
        for (ulong va = start; va < end; va += 4096)
        {
            if (p.Space.LeafEntryAddress(va) is not { } leaf || (Memory.ReadUInt64(leaf) & (PageEntry.Present | PageEntry.Writable)) != (PageEntry.Present | PageEntry.Writable))
            {
                continue;
            }
            path.Load(leaf).Run(KernelRoutine.PerPteCopy); // ptep_modify_prot_start and _commit
            Memory.WriteUInt64(leaf, Memory.ReadUInt64(leaf) & ~PageEntry.Writable);
            _ops.UpdatePageTableEntry(path, leaf);
            _ops.FlushTlbPage(path, va);
            flushed.Add(va);
        }
        FlushOtherCpus(path, p.Mm, flushed);
        return 0;
    }

    /// <summary>zap_pte_range for one page (zap_huge_pmd for a huge page, met at its first page): a present entry is cleared and its page's mapping and reference dropped; false when nothing was mapped.</summary>
    private bool UnmapPage(KernelPath path, Process p, ulong va)
    {
        if (p.Space.LeafEntryAddress(va) is not { } leaf)
        {
            return false;
        }
        ulong entry = Memory.ReadUInt64(leaf);
        if (IsSwapEntry(entry))
        {
            ZapSwapEntry(path, leaf, entry);
            return false; // nothing was mapped: no translation to flush
        }
        if ((entry & PageEntry.Present) == 0)
        {
            return false;
        }
        if (IsHugeEntry(entry))
        {
            ZapHugePage(path, leaf);
            return true;
        }
        path.Load(leaf).Run(KernelRoutine.PerPteUnmap);
        Memory.WriteUInt64(leaf, 0);
        _ops.UpdatePageTableEntry(path, leaf);
        Release(path, entry & PageEntry.AddressMask); // page_remove_rmap and put_page
        return true;
    }

    /// <summary>
    /// Demand-zero, copy-on-write and swap faults: fixed (the instruction is retried), fatal (a fault
    /// the process cannot survive), or waiting (the process sleeps until memory or its page is there,
    /// and its instruction is retried then; only for a fault from user mode on <paramref name="core"/>,
    /// not a kernel-mode access to a user page, which passes none).
    /// </summary>
    private FaultOutcome HandlePageFault(KernelPath path, Process p, PageFaultErrorCode code, ulong address, Core? core)
    {
        bool mayWait = core is not null;
        MemoryRegion? region = p.RegionOf(address);
        bool write = (code & PageFaultErrorCode.Write) != 0;
        if (region is null || (write && !region.Writable))
        {
            return FaultOutcome.Fatal;
        }
        ulong page = address & ~0xFFFUL;
        ulong flags = PageEntry.User | (region.Writable ? PageEntry.Writable : 0);
        ulong? leaf = p.Space.LeafEntryAddress(page);
        ulong entry = leaf is { } l ? Memory.ReadUInt64(l) : 0;
        if ((entry & PageEntry.Present) == 0 && region.FileId is { } file)
        {
            return MapFilePage(path, p, region, file, page, core);
        }
        if (IsSwapEntry(entry))
        {
            return SwapInFault(path, p, region, page, leaf!.Value, entry, core);
        }
        if ((entry & PageEntry.Present) == 0 && HugePageFits(p, region, page) && TryHugePageFault(path, p, region, page))
        {
            return FaultOutcome.Retry;
        }
        if ((entry & PageEntry.Present) == 0)
        {
            if (!TryChargePage(path.Run(KernelRoutine.DemandZeroFault), p, mayWait: mayWait))
            {
                return Refused(p);
            }
            if (!TryUserPage(path, p, mayWait, out ulong frame))
            {
                UnchargeUnallocated(path, p);
                return FaultOutcome.Waiting;
            }
            _demandZeroFaults.Increment(); // once per page mapped, not per try of a fault that waited
            OwnPage(p, frame);
            AddAnonymous(p, frame, page);
            path.ZeroPage(frame);
            p.Space.Map4K(page, frame, flags);
            LinkNewTables(path, p.Space);
            _ops.UpdatePageTableEntry(path, p.Space.LeafEntryAddress(page)!.Value);
            return FaultOutcome.Retry;
        }
        if (!write || (entry & PageEntry.Writable) != 0)
        {
            return FaultOutcome.Fatal; // present and allowed: not a fault this kernel makes
        }
        path.Run(KernelRoutine.CopyOnWriteFault);
        if (IsHugeEntry(entry))
        {
            if (ReuseOrSplitHugePage(path, p, leaf!.Value, page))
            {
                _copyOnWriteFaults.Increment();
                return FaultOutcome.Retry;
            }
            leaf = p.Space.LeafEntryAddress(page);
            entry = Memory.ReadUInt64(leaf!.Value);
        }
        ulong old = entry & PageEntry.AddressMask;
        ulong target = old;
        path.Load(_frames.Descriptor(old)); // do_wp_page: may the page be reused, or is it still shared?
        if (_frames.IsShared(old))
        {
            if (!TryChargePage(path, p, mayWait: mayWait))
            {
                return Refused(p);
            }
            if (!TryUserPage(path, p, mayWait, out target))
            {
                UnchargeUnallocated(path, p);
                return FaultOutcome.Waiting;
            }
            OwnPage(p, target);
            AddAnonymous(p, target, page);
            path.CopyPage(old, target);
            Release(path, old);
        }
        else
        {
            ReuseAnonymous(p, old, page);
        }
        Memory.WriteUInt64(leaf!.Value, (entry & ~PageEntry.AddressMask) | target | PageEntry.Writable);
        _ops.UpdatePageTableEntry(path, leaf.Value);
        _ops.FlushTlbPage(path, page);
        FlushOtherCpus(path, p.Mm, [page]); // other threads' CPUs may hold the old, shared frame's translation
        _copyOnWriteFaults.Increment(); // once per break, not per try of a fault that waited
        return FaultOutcome.Retry;
    }

    /// <summary>A charge that failed: the process sleeps for swap writes (it was put to sleep), or is to be killed.</summary>
    private static FaultOutcome Refused(Process p) => p.State == ProcessState.Waiting ? FaultOutcome.Waiting : FaultOutcome.Fatal;

    /// <summary>
    /// pte_alloc and its kind: each page table a new mapping needed comes from the page allocator
    /// zeroed (clear_page) and is linked into its parent table with a store.
    /// </summary>
    private void LinkNewTables(KernelPath path, AddressSpaceBuilder space)
    {
        foreach ((ulong table, ulong link) in space.TakeNewTables())
        {
            PageAllocator(path).ZeroPage(table);
            _ops.UpdatePageTableEntry(path, link);
        }
    }

    /// <summary>
    /// pgd_alloc: a new top-level table, its user half cleared and its kernel half copied from the
    /// kernel's master table (fork and exec both make one).
    /// </summary>
    private void AllocatePgd(KernelPath path, AddressSpaceBuilder space) =>
        PageAllocator(path).ZeroLines(space.Pml4, 32).CopyLines(_kernelSpace.Pml4 + 2048, space.Pml4 + 2048, 32);

    /// <summary>The page allocator's work for <paramref name="times"/> pages outside the per-CPU lists, on this CPU (<see cref="PageAllocator.Charge"/>).</summary>
    private KernelPath PageAllocator(KernelPath path, int times = 1) => _pages.Charge(path, times);

    /// <summary>One mapping fewer (<see cref="PageFrames.Release"/>); a page that goes back to the allocator is uncharged from its memory cgroup.</summary>
    private void Release(KernelPath path, ulong frame)
    {
        if (_frames.Release(path, frame))
        {
            UnchargePage(path, frame);
            ForgetAnonymous(frame);
        }
    }
}
