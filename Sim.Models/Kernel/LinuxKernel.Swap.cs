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
/// swapped out twice is written twice. A kernel-mode access to a swapped page (a copy to a user
/// buffer, a futex word, the thread ID word cleared at exit) brings it in without waiting for the
/// disk.
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
        Devices.DiskImage medium = _platform.Devices.Ahci?.Disk ?? _platform.Devices.Virtio?.Disk ?? _platform.Devices.Nvme?.Disk
            ?? throw new InvalidOperationException(_platform.Devices.HasDisk
                ? "Swap needs a disk interface that queues requests (AHCI, NVMe or virtio-blk): the ATA model's PIO takes one request at a time, and reclaim writes many."
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
        _majorFaults = stats.Counter("major_faults", "count", "faults that needed a page read from swap (vmstat pgmajfault): a user-mode fault waits for the read, a kernel path's takes the page at once");
        _writebackWaits = stats.Counter("writeback_waits", "count", "faults that found free memory at the min watermark and waited for swap writes to free a page (reclaim_throttle)");
        _kswapdRuns = stats.Counter("kswapd_runs", "count", "ticks on which kswapd found free memory below the low watermark and reclaimed towards the high one");
        _majorFaultLatency = stats.Histogram("major_fault_latency", "ns", "major faults from user mode, from the fault to the process's return to user mode with its page read");
        stats.Probe("slots_used", "count", "swap slots in use at the end (SwapTotal - SwapFree, in pages)", () => _swap.Used);
    }

    private static bool IsSwapEntry(ulong entry) => (entry & (PageEntry.Present | SwapEntryBit)) == SwapEntryBit;

    private static int SlotOf(ulong entry) => (int)((entry & PageEntry.AddressMask) >> PhysicalMemory.FrameShift);

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
        _majorFaults!.Increment(); // a fault that needed the disk, as pgmajfault counts it, from user or kernel mode
        if (p.Container is { } container)
        {
            container.MajorFaults++;
        }
        if (core is null)
        {
            cached.Reading = false;
            MapSwapCachePage(path, p, region, page, leaf, cached);
            return FaultOutcome.Retry;
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
