using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>
/// The anonymous half of reclaim in a kernel with swap (mm/vmscan.c): the anonymous LRU lists and
/// their reverse maps, the pass that sends pages from their inactive tails to swap
/// (<see cref="SwapOut"/>, LinuxKernel.Swap.cs), the watermarks, kswapd, and the waits of a fault
/// that finds free memory at the min watermark with the pages reclaim chose still being written.
/// </summary>
public sealed partial class LinuxKernel
{
    /// <summary>
    /// The min watermark in pages: min_free_kbytes as init_per_zone_wmark_min sets it,
    /// sqrt(16 x memory in KiB) clamped to 128-65,536 KiB (mm/page_alloc.c), over 4 KiB. A user
    /// page is allocated above it; the kernel's own allocations may use the reserve below it.
    /// </summary>
    internal static ulong MinFreeFrames(ulong memoryBytes) =>
        (ulong)Math.Clamp(Math.Sqrt((memoryBytes >> 10) * 16.0), 128, 65_536) / 4;

    /// <summary>The low watermark, below which kswapd wakes: min + min/4 (setup_per_zone_wmarks, 2.6.32's mm/page_alloc.c).</summary>
    private ulong LowWatermark => _minFreeFrames + (_minFreeFrames / 4);

    /// <summary>The high watermark, up to which kswapd reclaims: min + min/2.</summary>
    private ulong HighWatermark => _minFreeFrames + (_minFreeFrames / 2);

    /// <summary>Swap writes kswapd lets be in flight before it stops for the tick: BLKDEV_MAX_RQ, the 128 requests a queue holds before the block layer calls it congested (kswapd then waits in congestion_wait).</summary>
    private const int WritebackLimit = 128;

    /// <summary>
    /// kswapd (mm/vmscan.c's balance_pgdat), from CPU 0's timer tick in a kernel with swap: when
    /// free memory is below the low watermark, reclaim passes over every list until the free pages
    /// and those being written reach the high watermark, <see cref="WritebackLimit"/> writes are in
    /// flight, or a pass finds nothing to take.
    /// </summary>
    /// <remarks>Model: it runs in the tick's interrupt on whatever CPU 0 was running, as khugepaged does here, where Linux has a kernel thread per node that the scheduler places.</remarks>
    private void KswapdTick(KernelPath path)
    {
        if (_swap is null || _this.Index != 0 || _pages.FreeFrames >= LowWatermark)
        {
            return;
        }
        _kswapdRuns!.Increment();
        while (_pages.FreeFrames + (ulong)_writeback < HighWatermark && _writeback < WritebackLimit)
        {
            int writing = _writeback;
            if (ReclaimPass(path, AllFileLists(), AllAnonymousLists()) == 0 && _writeback == writing)
            {
                return; // nothing left it could take
            }
        }
    }

    /// <summary>A new anonymous page of <paramref name="p"/> at <paramref name="address"/>: on its memory cgroup's (or the kernel's) active anonymous list, for reclaim to find, when the kernel has swap.</summary>
    private void AddAnonymous(Process p, ulong frame, ulong address)
    {
        if (_swap is not null)
        {
            var page = new AnonymousPage(frame, p.Mm, address & ~0xFFFUL, p.Container?.AnonymousLru ?? KernelAnonymousLru);
            _anonymous[frame] = page;
            page.Lru.Active.AddFirst(page.Node);
        }
    }

    /// <summary>The idle daemons' pages of a guest's base system, in a kernel with swap: on the kernel's active anonymous list with no mapping, oldest of all, for reclaim to send to swap (they are never touched again in a run).</summary>
    private void AddIdleAnonymous(IEnumerable<ulong> frames)
    {
        foreach (ulong frame in _swap is null ? [] : frames)
        {
            var page = new AnonymousPage(frame, mm: null, 0, KernelAnonymousLru);
            _anonymous[frame] = page;
            page.Lru.Active.AddFirst(page.Node);
        }
    }

    /// <summary>A page <paramref name="p"/> reuses at a copy-on-write fault, which another address space made: its reverse map now names this mapping (do_wp_page's page_move_anon_rmap).</summary>
    private void ReuseAnonymous(Process p, ulong frame, ulong address)
    {
        if (_anonymous.TryGetValue(frame, out AnonymousPage? page) && page.Mm != p.Mm)
        {
            ForgetAnonymous(frame);
            AddAnonymous(p, frame, address);
        }
    }

    /// <summary>A freed frame leaves the anonymous lists.</summary>
    private void ForgetAnonymous(ulong frame)
    {
        if (_anonymous.Remove(frame, out AnonymousPage? page))
        {
            page.Node.List?.Remove(page.Node);
        }
    }

    /// <summary>Every anonymous list reclaim may take from when memory is empty: the kernel's and those of the containers that may swap.</summary>
    private IEnumerable<AnonymousLru> AllAnonymousLists() =>
        _containers.Where(c => c.Configuration.MaySwap).Select(c => c.AnonymousLru).Prepend(KernelAnonymousLru);

    /// <summary>
    /// The anonymous half of a reclaim pass: pages from each list's inactive tail sent to swap
    /// until <paramref name="wanted"/> writes have started or the lists were looked at once;
    /// whenever an inactive list is the shorter a batch moves down from the active list first.
    /// A page whose entry has its accessed bit set goes back to the active list with the bit
    /// cleared (page_referenced); one shared with another address space, or no longer mapped
    /// where its reverse map says, is kept. Returns the writes started.
    /// </summary>
    private int SwapOutPass(KernelPath path, IEnumerable<AnonymousLru> lists, int wanted)
    {
        int started = 0;
        foreach (AnonymousLru lru in lists)
        {
            for (int budget = lru.Count; started < wanted && budget > 0 && _swap!.Used < _swap.Slots; budget--)
            {
                if (lru.Inactive.Count < lru.Active.Count)
                {
                    DeactivateAnonymous(path, lru);
                }
                if (lru.Inactive.Last?.Value is not { } page)
                {
                    break;
                }
                ScanPage(path, page.Frame);
                if (page.Mm is null)
                {
                    SwapOut(path, page, leaf: null); // an idle daemon's page: nothing maps it
                    started++;
                    continue;
                }
                ulong? leaf = MappingOf(page);
                if (leaf is null || _frames.IsShared(page.Frame))
                {
                    AnonymousLru.Move(page, toActive: true);
                    continue;
                }
                path.Load(leaf.Value);
                if (TestAndClearYoung(path, leaf.Value))
                {
                    AnonymousLru.Move(page, toActive: true);
                    continue;
                }
                SwapOut(path, page, leaf.Value);
                started++;
            }
        }
        return started;
    }

    /// <summary>shrink_active_list for anonymous pages: up to <see cref="SwapClusterMax"/> from the active list's tail to the inactive list's head, each one's accessed bit cleared (page_referenced), whatever it was: anonymous pages are deactivated all the same.</summary>
    private void DeactivateAnonymous(KernelPath path, AnonymousLru lru)
    {
        for (int n = 0; n < SwapClusterMax && lru.Active.Last?.Value is { } page; n++)
        {
            ScanPage(path, page.Frame);
            if (MappingOf(page) is { } leaf)
            {
                TestAndClearYoung(path, leaf);
            }
            AnonymousLru.Move(page, toActive: false);
        }
    }

    /// <summary>ptep_test_and_clear_young: whether the entry's accessed bit was set, cleared with a locked bit clear if so. x86 does not flush the TLB for it (ptep_clear_flush_young, arch/x86/mm/pgtable.c: a stale accessed bit only delays reclaim).</summary>
    private bool TestAndClearYoung(KernelPath path, ulong leaf)
    {
        ulong entry = Memory.ReadUInt64(leaf);
        if ((entry & PageEntry.Accessed) == 0)
        {
            return false;
        }
        Memory.WriteUInt64(leaf, entry & ~PageEntry.Accessed);
        path.Atomic(leaf);
        return true;
    }

    /// <summary>The entry that maps <paramref name="page"/> where its reverse map says, or null if that entry no longer maps this frame (a child kept it after its parent's copy-on-write).</summary>
    private ulong? MappingOf(AnonymousPage page)
    {
        if (page.Mm is not { Users: > 0 } mm || mm.Space.LeafEntryAddress(page.Address) is not { } leaf) // a dead address space's tables may be gone
        {
            return null;
        }
        ulong entry = Memory.ReadUInt64(leaf);
        return (entry & PageEntry.Present) != 0 && !IsHugeEntry(entry) && (entry & PageEntry.AddressMask) == page.Frame ? leaf : null;
    }

    /// <summary>
    /// A user page for a fault. Without swap, or with free memory above the min watermark, the next
    /// free page (<see cref="NewPage"/>). At the watermark, direct reclaim first; when a pass frees
    /// nothing at once but swap writes are in flight (or enough are already), a fault that may wait
    /// waits for them (false: the process sleeps and its instruction is retried when a write ends);
    /// with nothing to reclaim, the reserve below the watermark, down to the out-of-memory end.
    /// </summary>
    private bool TryUserPage(KernelPath path, Process p, bool mayWait, out ulong frame)
    {
        while (_swap is not null && _pages.FreeFrames <= _minFreeFrames)
        {
            if (_writeback < SwapClusterMax && ReclaimPass(path, AllFileLists(), AllAnonymousLists()) > 0)
            {
                continue;
            }
            if (_writeback == 0 || !mayWait)
            {
                break;
            }
            _writebackWaits!.Increment();
            WaitOn(_memoryWaiters, p);
            frame = 0;
            return false;
        }
        frame = NewPage(path);
        return true;
    }

    /// <summary><paramref name="p"/> sleeps on <paramref name="queue"/> until a completion wakes it; its faulting instruction runs again then.</summary>
    private static FaultOutcome WaitOn(List<Process> queue, Process p)
    {
        p.State = ProcessState.Waiting;
        queue.Add(p);
        return FaultOutcome.Waiting;
    }

    /// <summary>Wakes every process on <paramref name="queue"/>, in the order they slept.</summary>
    private void WakeAll(KernelPath path, List<Process> queue)
    {
        Process[] woken = [.. queue];
        queue.Clear();
        foreach (Process p in woken)
        {
            p.State = ProcessState.Ready;
            Wake(p, path);
        }
    }
}
