using Sim.Engine.Statistics;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>
/// khugepaged (mm/khugepaged.c): with transparent huge pages on, every
/// <see cref="KhugepagedSleepMilliseconds"/> it scans the next <see cref="KhugepagedPagesToScan"/>
/// page-table entries of the address spaces that have anonymous memory, 2 MiB-aligned range by
/// range (khugepaged_scan_mm_slot), and collapses a range mapped with 4 KiB pages into one huge page
/// (collapse_huge_page) when at most <see cref="MaxPtesNone"/> of its entries are empty and none of
/// its pages is shared: a huge page allocated and charged, the present pages copied into it and
/// the absent ones zeroed, the old entries cleared and flushed, the old pages freed, the page table
/// kept as the huge page's deposit, and the directory entry set.
/// </summary>
/// <remarks>
/// Model: khugepaged runs in the timer interrupt of CPU 0 when its sleep is over, on whatever that
/// CPU was running (a kernel thread at nice 19 in Linux, which the scheduler places); it never
/// sleeps on the allocation (khugepaged_alloc_sleep_millisecs) and takes no mmap lock that could
/// make a fault wait. Swap entries and shared pages (max_ptes_swap, max_ptes_shared) are not
/// weighed: a range with a shared page, or a page in swap, is left alone.
/// </remarks>
public sealed partial class LinuxKernel
{
    /// <summary>khugepaged's default batch (khugepaged_pages_to_scan = HPAGE_PMD_NR * 8 in mm/khugepaged.c): the entries scanned per wake-up.</summary>
    public const int KhugepagedPagesToScan = PageFrames.HugePageFrames * 8;

    /// <summary>khugepaged's default sleep between batches (khugepaged_scan_sleep_millisecs, 10,000 ms in mm/khugepaged.c).</summary>
    public const double DefaultKhugepagedSleepMilliseconds = 10_000;

    /// <summary>khugepaged_max_ptes_none's default (HPAGE_PMD_NR - 1): a range with a single present page may be collapsed, the rest of the huge page zeroed.</summary>
    public const int MaxPtesNone = PageFrames.HugePageFrames - 1;

    private readonly List<(MemoryDescriptor Mm, Process Owner)> _khugepagedSlots = []; // mm_slots, in the order their address spaces entered; scanned in that order
    private int _khugepagedSlot;
    private ulong _khugepagedAddress;
    private long _khugepagedTicksLeft;
    private long _khugepagedTicks;
    private Counter? _collapses;
    private Counter? _khugepagedFullScans;

    /// <summary>khugepaged's sleep between batches, in milliseconds.</summary>
    public double KhugepagedSleepMilliseconds { get; private set; } = DefaultKhugepagedSleepMilliseconds;

    /// <summary>Registers khugepaged's counters and sleep with THP (<see cref="EnableTransparentHugePages"/>).</summary>
    private void StartKhugepaged(StatGroup stats, double sleepMilliseconds)
    {
        if (!(sleepMilliseconds > 0) || !double.IsFinite(sleepMilliseconds))
        {
            throw new ArgumentOutOfRangeException(nameof(sleepMilliseconds), sleepMilliseconds, "khugepaged sleeps more than 0 ms between batches.");
        }
        KhugepagedSleepMilliseconds = sleepMilliseconds;
        _collapses = stats.Counter("collapse_alloc", "count", "ranges of 4 KiB pages khugepaged collapsed into a huge page (thp_collapse_alloc)");
        _khugepagedFullScans = stats.Counter("khugepaged_full_scans", "count", "passes of khugepaged over every address space it scans (khugepaged/full_scans)");
    }

    /// <summary>khugepaged_enter: an address space with anonymous memory that huge pages may serve joins khugepaged's scan, once.</summary>
    private void EnterKhugepaged(Process p)
    {
        if (TransparentHugePages && !_khugepagedSlots.Exists(s => s.Mm == p.Mm))
        {
            _khugepagedSlots.Add((p.Mm, p));
        }
    }

    /// <summary>An address space torn down leaves khugepaged's scan (collect_mm_slot).</summary>
    private void LeaveKhugepaged(MemoryDescriptor mm)
    {
        int at = _khugepagedSlots.FindIndex(s => s.Mm == mm);
        if (at < 0)
        {
            return;
        }
        _khugepagedSlots.RemoveAt(at);
        if (at < _khugepagedSlot)
        {
            _khugepagedSlot--; // the cursor stays on the address space it was scanning
        }
        else if (at == _khugepagedSlot)
        {
            _khugepagedAddress = 0; // the next address space from its start (past the last: the pass wraps)
        }
    }

    /// <summary>At CPU 0's timer tick: khugepaged's batch when its sleep is over.</summary>
    private void KhugepagedTick(KernelPath path)
    {
        if (!TransparentHugePages || _this.Index != 0)
        {
            return;
        }
        if (_khugepagedTicks == 0)
        {
            _khugepagedTicks = Math.Max(1, (long)Math.Ceiling(KhugepagedSleepMilliseconds * 1000 / _tickMicroseconds));
            _khugepagedTicksLeft = _khugepagedTicks;
        }
        if (--_khugepagedTicksLeft > 0)
        {
            return;
        }
        _khugepagedTicksLeft = _khugepagedTicks;
        int budget = KhugepagedPagesToScan;
        while (budget > 0 && _khugepagedSlots.Count > 0 && NextKhugepagedRange(out MemoryDescriptor mm, out Process owner, out MemoryRegion region, out ulong start))
        {
            budget -= PageFrames.HugePageFrames;
            ScanRange(path, mm, owner, region, start);
        }
    }

    /// <summary>The next 2 MiB-aligned range of an anonymous, writable region after khugepaged's cursor, the cursor moved past it; false when no address space has one.</summary>
    private bool NextKhugepagedRange(out MemoryDescriptor mm, out Process owner, out MemoryRegion region, out ulong start)
    {
        for (int visited = 0; visited <= _khugepagedSlots.Count; visited++)
        {
            if (_khugepagedSlot >= _khugepagedSlots.Count)
            {
                (_khugepagedSlot, _khugepagedAddress) = (0, 0);
                _khugepagedFullScans!.Increment();
            }
            (mm, owner) = _khugepagedSlots[_khugepagedSlot];
            foreach (MemoryRegion r in mm.Regions.Where(r => r.FileId is null && r.Writable).OrderBy(r => r.Start))
            {
                ulong end = r.Start + (r.Pages * 4096);
                ulong first = Math.Max((r.Start + HugePageBytes - 1) & ~(HugePageBytes - 1), _khugepagedAddress);
                if (first + HugePageBytes <= end)
                {
                    (region, start) = (r, first);
                    _khugepagedAddress = first + HugePageBytes;
                    return true;
                }
            }
            (_khugepagedSlot, _khugepagedAddress) = (_khugepagedSlot + 1, 0);
        }
        (mm, owner, region, start) = (null!, null!, null!, 0);
        return false;
    }

    /// <summary>
    /// khugepaged_scan_pmd for the range at <paramref name="start"/>: its 512 entries read and
    /// checked, and the range collapsed when it qualifies (a page table there, at most
    /// <see cref="MaxPtesNone"/> empty entries, no page shared).
    /// </summary>
    private void ScanRange(KernelPath path, MemoryDescriptor mm, Process owner, MemoryRegion region, ulong start)
    {
        if (mm.Space.DirectoryEntryAddress(start) is not { } pde)
        {
            return; // no table: nothing to collapse
        }
        ulong link = Memory.ReadUInt64(pde);
        if ((link & PageEntry.Present) == 0 || (link & PageEntry.PageSize) != 0)
        {
            return; // no table, or a huge page already
        }
        ulong table = link & PageEntry.AddressMask;
        path.Run(HugePageRoutine.ScanRange).LoadRange(DirectMap.Of(table), PhysicalMemory.FrameBytes);
        var present = new List<(int Index, ulong Frame)>();
        for (int i = 0; i < PageFrames.HugePageFrames; i++)
        {
            ulong entry = Memory.ReadUInt64(table + ((ulong)i * 8));
            if (IsSwapEntry(entry))
            {
                return; // a page in swap: left alone (Linux's max_ptes_swap lets 64 be read back in first)
            }
            if ((entry & PageEntry.Present) == 0)
            {
                continue;
            }
            ulong frame = entry & PageEntry.AddressMask;
            if (_frames.IsShared(frame) || (entry & PageEntry.Writable) == 0)
            {
                return; // shared with another address space, or not yet written since a fork: left alone
            }
            present.Add((i, frame));
        }
        if (present.Count == 0 || PageFrames.HugePageFrames - present.Count > MaxPtesNone)
        {
            return;
        }
        CollapseRange(path, mm, owner, region, start, pde, table, present);
    }

    /// <summary>collapse_huge_page: the range at <paramref name="start"/> remade as one huge page (nothing changes if the charge or the allocation fails).</summary>
    private void CollapseRange(KernelPath path, MemoryDescriptor mm, Process owner, MemoryRegion region, ulong start, ulong pde, ulong table, List<(int Index, ulong Frame)> present)
    {
        if (!TryNewChargedHugePage(path.Run(HugePageRoutine.Collapse), owner, out ulong first))
        {
            return;
        }
        // __collapse_huge_page_copy: each present page copied, each absent one zeroed.
        int next = 0;
        for (int i = 0; i < PageFrames.HugePageFrames; i++)
        {
            ulong to = first + ((ulong)i * PhysicalMemory.FrameBytes);
            if (next < present.Count && present[next].Index == i)
            {
                path.CopyPage(present[next++].Frame, to);
            }
            else
            {
                path.ZeroPage(to);
            }
        }
        path.Run(HugePageRoutine.CollapsePerPage, times: present.Count);
        // pmdp_collapse_flush: the table unlinked and every translation of the range flushed.
        Memory.WriteUInt64(pde, 0);
        _ops.UpdatePageTableEntry(path, pde);
        FlushEverywhere(path, mm, [.. present.Select(p => start + ((ulong)p.Index * PhysicalMemory.FrameBytes))]);
        foreach ((int index, ulong frame) in present)
        {
            Memory.WriteUInt64(table + ((ulong)index * 8), 0);
            Release(path, frame);
        }
        _deposited[pde] = table; // the old page table, emptied, kept for a later split
        Memory.WriteUInt64(pde, first | PageEntry.User | (region.Writable ? PageEntry.Writable : 0) | PageEntry.Present | PageEntry.PageSize);
        _ops.UpdatePageTableEntry(path, pde);
        _collapses!.Increment();
    }
}
