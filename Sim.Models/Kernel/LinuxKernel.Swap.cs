using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>
/// Swap (mm/swapfile.c, mm/swap_state.c, mm/page_io.c, and the anonymous half of mm/vmscan.c):
/// when reclaim has taken what page cache it can, it sends anonymous pages from the inactive
/// anonymous list's tail to a swap area on the kernel's disk. Each page gets a slot, its
/// page-table entry becomes a swap entry naming the slot (its translation flushed), and its 4 KiB
/// go to the disk as a write through the kernel's block driver; the page stays in the swap cache,
/// still charged, until the write completes, and is freed then. A process that touches a swapped
/// page takes a major fault: a new page, a read of its slot, and the process waits, as
/// do_swap_page's lock_page waits, until the disk has it; then its faulting instruction runs
/// again and finds the page in the swap cache. A fault that needs a page when free memory is at
/// the min watermark and the pages reclaim chose are still being written waits for the writes
/// (reclaim_throttle), and tries again.
/// </summary>
/// <remarks>
/// Model: reclaim runs in the allocating process (direct reclaim) and in kswapd, which runs in
/// CPU 0's timer tick (<see cref="KswapdTick"/>); a pass takes page cache first and anonymous
/// pages only for the rest of the pass (Linux balances the two by swappiness and the lists'
/// recent rotations); the reverse map holds the page's first mapping
/// only (a page shared after fork is not swapped; Linux's anon_vma walk unmaps it everywhere); a
/// transparent huge page is not swapped (Linux splits it first); one 4 KiB request per page (the
/// block layer would merge a pass's consecutive slots), no swap readahead (page-cluster's 8
/// pages), and a slot is given up as its page comes back (as when vm_swap_full), so that a page
/// swapped out twice is written twice. A kernel-mode access to a swapped page (a futex word, the
/// thread ID word cleared at exit) brings it in without waiting for the disk.
/// </remarks>
public sealed partial class LinuxKernel
{
    /// <summary>The bit of a not-present entry that marks a swap entry; the slot is in the address bits. Linux packs type and offset into a not-present entry (__swp_entry, arch/x86/include/asm/pgtable_64.h); the model uses one bit the architecture leaves to software.</summary>
    internal const ulong SwapEntryBit = 1UL << 10;

    private SwapArea? _swap;
    private readonly Dictionary<ulong, AnonymousPage> _anonymous = []; // by frame, looked up only
    private readonly Dictionary<int, SwapCachePage> _swapCache = [];   // by slot, looked up only
    private readonly List<Process> _memoryWaiters = [];                 // faults waiting for a swap write to free a page, in order
    private int _writeback;                                             // swap writes in flight
    private ulong _minFreeFrames;
    private Counter? _swapOuts;
    private Counter? _swapIns;
    private Counter? _majorFaults;
    private Counter? _writebackWaits;
    private Counter? _kswapdRuns;
    private Histogram? _majorFaultLatency;

    /// <summary>The swap area, or null for a kernel without swap.</summary>
    public SwapArea? Swap => _swap;

    /// <summary>The anonymous LRU lists of the processes in no container.</summary>
    internal AnonymousLru KernelAnonymousLru { get; } = new();

    /// <summary>
    /// Gives the kernel a swap area of <paramref name="bytes"/> at the end of its disk (swapon of a
    /// partition), before its first process: the swap routines laid out, the reclaim and swap
    /// counters registered (kernel.swap: pswpout, pswpin, pgmajfault), and the min watermark set.
    /// </summary>
    public void EnableSwap(ulong bytes)
    {
        if (_swap is not null)
        {
            throw new InvalidOperationException("The kernel already has a swap area.");
        }
        if (bytes == 0 || bytes % PhysicalMemory.FrameBytes != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "A swap area is a positive number of whole 4 KiB pages.");
        }
        Devices.IStorageMedium medium = _platform.Devices.Ahci?.Medium ?? _platform.Devices.Virtio?.Medium
            ?? throw new InvalidOperationException(_platform.Devices.HasDisk
                ? "Swap needs a disk interface that queues requests (AHCI or virtio-blk): the ATA model's PIO takes one request at a time, and reclaim writes many."
                : "Swap needs a disk, and the machine has none.");
        ulong sectors = bytes / 512;
        if (sectors > medium.Sectors - (2 * FileSystem.FirstSector))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"A swap area of {bytes >> 20} MiB does not fit on the {medium.Sectors >> 11} MiB disk beside its files.");
        }
        _swap = new SwapArea((int)(bytes / PhysicalMemory.FrameBytes), medium.Sectors - sectors);
        _text.LayOutSwapRoutines();
        CountReclaim();
        _minFreeFrames = MinFreeFrames(Memory.SizeBytes);
        StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel.swap");
        _swapOuts = stats.Counter("pswpout", "count", "pages written to swap (vmstat pswpout)");
        _swapIns = stats.Counter("pswpin", "count", "pages read back from swap (vmstat pswpin)");
        _majorFaults = stats.Counter("major_faults", "count", "faults that waited for a page to be read from swap (vmstat pgmajfault)");
        _writebackWaits = stats.Counter("writeback_waits", "count", "faults that found free memory at the min watermark and waited for swap writes to free a page (reclaim_throttle)");
        _kswapdRuns = stats.Counter("kswapd_runs", "count", "ticks on which kswapd found free memory below the low watermark and reclaimed towards the high one");
        _majorFaultLatency = stats.Histogram("major_fault_latency", "ns", "major faults, from the fault to the process's return to user mode with its page read");
        stats.Probe("slots_used", "count", "swap slots in use at the end (SwapTotal - SwapFree, in pages)", () => _swap.Used);
    }

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

    private static bool IsSwapEntry(ulong entry) => (entry & (PageEntry.Present | SwapEntryBit)) == SwapEntryBit;

    private static int SlotOf(ulong entry) => (int)((entry & PageEntry.AddressMask) >> PhysicalMemory.FrameShift);

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
    /// One page to swap (add_to_swap, try_to_unmap_one, pageout): a slot taken, the page's bytes
    /// handed to the area, its entry made a swap entry and its translation flushed wherever the
    /// address space is loaded, the page moved from the anonymous list to the swap cache (still
    /// charged), and its write submitted. The page is freed when the write completes. An idle
    /// daemon's page (no <paramref name="leaf"/>) keeps its slot for good: nothing reads it back.
    /// </summary>
    private void SwapOut(KernelPath path, AnonymousPage page, ulong? leaf)
    {
        path.Run(SwapRoutine.SwapOut);
        _swap!.TryAllocate(out int slot);
        _swap.Duplicate(slot); // the swap cache's reference beside the entry's
        _swap.Store(slot, Memory.ContentOf(page.Frame), PageWords(page.Frame));
        if (leaf is { } entry && page.Mm is { } mm)
        {
            Memory.WriteUInt64(entry, ((ulong)slot << PhysicalMemory.FrameShift) | SwapEntryBit);
            _ops.UpdatePageTableEntry(path, entry);
            FlushEverywhere(path, mm, [page.Address]);
        }
        ForgetAnonymous(page.Frame);
        var cached = new SwapCachePage(slot, page.Frame, OwnerOf(page.Frame)) { Writeback = true };
        _swapCache[slot] = cached;
        _writeback++;
        if (cached.Owner is { } container)
        {
            container.Writeback++;
        }
        _swapOuts!.Increment();
        SubmitBlock(path, new DiskRequest(null, 8, page.Frame, write: true, (p, _) => WritebackEnded(p, cached), default), _swap.SectorOf(slot));
    }

    /// <summary>
    /// A swap write completed: the page leaves the swap cache and drops the cache's reference, which
    /// frees (and uncharges) it unless a fault mapped it back meanwhile; the faults waiting for
    /// memory are woken to try again.
    /// </summary>
    private void WritebackEnded(KernelPath path, SwapCachePage cached)
    {
        path.Run(SwapRoutine.WritebackEnd);
        _swapCache.Remove(cached.Slot);
        _swap!.Free(cached.Slot);
        _writeback--;
        if (cached.Owner is { } container)
        {
            container.Writeback--;
        }
        Release(path, cached.Frame);
        WakeAll(path, _memoryWaiters);
    }

    /// <summary>
    /// A fault on a swap entry (do_swap_page). A page in the swap cache (being written, or read and
    /// waited for) is mapped at once. Otherwise a page is charged and allocated, put in the swap
    /// cache, and its slot read: the process waits for the read (a major fault), unless the fault
    /// came from no <paramref name="core"/> (a kernel-mode access), when the page is taken as read.
    /// </summary>
    private FaultOutcome SwapInFault(KernelPath path, Process p, MemoryRegion region, ulong page, ulong leaf, ulong entry, Core? core)
    {
        bool mayWait = core is not null;
        int slot = SlotOf(entry);
        if (_swapCache.TryGetValue(slot, out SwapCachePage? cached))
        {
            if (cached.Reading && mayWait)
            {
                return WaitOn(cached.Waiters, p);
            }
            MapSwapCachePage(path, p, region, page, leaf, cached);
            return FaultOutcome.Retry;
        }
        path.Run(SwapRoutine.SwapInStart);
        if (!TryChargePage(path, p, mayWait: mayWait))
        {
            return Refused(p);
        }
        if (!TryUserPage(path, p, mayWait, out ulong frame))
        {
            UnchargeUnallocated(path, p);
            return FaultOutcome.Waiting;
        }
        OwnPage(p, frame);
        cached = new SwapCachePage(slot, frame, p.Container) { Reading = true };
        _swapCache[slot] = cached;
        _swap!.Duplicate(slot);
        _swapIns!.Increment();
        (ulong content, ulong[]? words) = _swap.Load(slot);
        Memory.SetContent(frame, content);
        FillPageWords(frame, words);
        if (core is null)
        {
            cached.Reading = false;
            MapSwapCachePage(path, p, region, page, leaf, cached);
            return FaultOutcome.Retry;
        }
        _majorFaults!.Increment();
        if (p.Container is { } container)
        {
            container.MajorFaults++;
        }
        Sim.Engine.Time.Tick faulted = core.LocalTime;
        p.OnReturnToUser += t => _majorFaultLatency!.Record((long)((t - faulted).Picoseconds / 1000));
        SubmitBlock(path, new DiskRequest(null, 8, frame, write: false, (done, _) =>
        {
            cached.Reading = false;
            WakeAll(done, cached.Waiters);
        }, faulted), _swap.SectorOf(slot));
        return WaitOn(cached.Waiters, p);
    }

    /// <summary>do_swap_page's second half: the swap cache's page mapped where the swap entry was (writable if the region is: the model frees the slot now, so no copy on disk remains to keep clean), the entry's slot reference dropped, and the page on the anonymous list again.</summary>
    private void MapSwapCachePage(KernelPath path, Process p, MemoryRegion region, ulong page, ulong leaf, SwapCachePage cached)
    {
        path.Run(SwapRoutine.SwapInMap);
        if (cached.Writeback)
        {
            _frames.TakeReference(path, cached.Frame); // the mapping's, beside the swap cache's, which the write's end drops
        }
        else
        {
            _swapCache.Remove(cached.Slot); // read: the cache's references, to the page and the slot, go to the mapping
            _swap!.Free(cached.Slot);
        }
        Memory.WriteUInt64(leaf, cached.Frame | PageEntry.User | PageEntry.Present | (region.Writable ? PageEntry.Writable : 0));
        _ops.UpdatePageTableEntry(path, leaf);
        _swap!.Free(cached.Slot); // the entry's
        AddAnonymous(p, cached.Frame, page);
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

    /// <summary>The words the CPUs left in the page at <paramref name="frame"/> (null if all are zero): what its write to swap carries, as the platform holds them (a VM's in the host's frames).</summary>
    private ulong[]? PageWords(ulong frame)
    {
        ulong[]? words = null;
        for (int i = 0; i < PhysicalMemory.FrameBytes / sizeof(ulong); i++)
        {
            if (_platform.ReadWord(frame + ((ulong)i * sizeof(ulong))) is not 0 and ulong word)
            {
                words ??= new ulong[PhysicalMemory.FrameBytes / sizeof(ulong)];
                words[i] = word;
            }
        }
        return words;
    }

    /// <summary>A page read from swap: its words put back where the CPUs will find them.</summary>
    private void FillPageWords(ulong frame, ulong[]? words)
    {
        for (int i = 0; words is not null && i < words.Length; i++)
        {
            _platform.WriteWord(frame + ((ulong)i * sizeof(ulong)), words[i]);
        }
    }

    /// <summary>A fork's copy of a swap entry (copy_one_pte's swap_duplicate): the child's entry names the same slot.</summary>
    private void CopySwapEntry(Process child, ulong va, ulong entry)
    {
        _swap!.Duplicate(SlotOf(entry));
        child.Space.Map4K(va, entry & PageEntry.AddressMask, SwapEntryBit, present: false);
    }

    /// <summary>zap_pte_range for a swap entry (free_swap_and_cache): the entry cleared and its slot reference dropped.</summary>
    private void ZapSwapEntry(KernelPath path, ulong leaf, ulong entry)
    {
        path.Load(leaf).Run(KernelRoutine.PerPteUnmap);
        Memory.WriteUInt64(leaf, 0);
        _ops.UpdatePageTableEntry(path, leaf);
        _swap!.Free(SlotOf(entry));
    }

    /// <summary>A page in the swap cache: its slot, its frame, the container charged for it, whether it is being written or read, and who waits for the read.</summary>
    private sealed class SwapCachePage(int slot, ulong frame, Container? owner)
    {
        public int Slot { get; } = slot;

        public ulong Frame { get; } = frame;

        public Container? Owner { get; } = owner;

        public bool Writeback { get; init; }

        public bool Reading { get; set; }

        public List<Process> Waiters { get; } = [];
    }
}

/// <summary>What a page fault came to: the faulting instruction retried, the process asleep until the fault can go on (its instruction retried when it runs again), or the process killed.</summary>
internal enum FaultOutcome
{
    Fatal,
    Retry,
    Waiting,
}
