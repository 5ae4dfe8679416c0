using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Devices;
using Sim.Models.Kernel;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Virtualization;

/// <summary>
/// The host kernel swapping guest memory out of a KVM-like host that backs it on first touch
/// (a guest's memory is anonymous memory of its VMM process, reclaimed as any other): the
/// host's anonymous LRU lists of the guests' backed 4 KiB pages, reclaim at the min watermark in
/// the fault that finds free memory there, the pages it chooses written to a swap area on the
/// host's own disk, and the fault of a guest that touches a page in swap, which blocks its
/// virtual CPU until the page is read back.
/// </summary>
/// <remarks>
/// <para>
/// Steps as Linux 3.x with KVM takes them. A guest page starts on the active list
/// (lru_cache_add_active_or_unevictable). Reclaim (shrink_lruvec) deactivates from the active
/// list's tail while the inactive list is the shorter, and takes the inactive list's tail. Whether
/// a page was referenced is KVM's answer to the MMU notifier (kvm_mmu_notifier_clear_flush_young,
/// kvm_age_rmapp): without EPT accessed and dirty flags, KVM emulates the accessed bit by zapping
/// the page's EPT entry, so a page is young if its entry is there, and every look at it clears it
/// (the guest's next touch is an EPT violation that maps the page again: <see cref="VirtualMachine.Remap"/>).
/// A young page on the inactive list goes back to the active one; an old one gets a swap slot and
/// its write, and its frame is freed when the write ends. The writes of one reclaim pass go out
/// plugged (shrink_lruvec's blk_start_plug), so those to consecutive slots merge into one request.
/// </para>
/// <para>
/// A guest's touch of a page in swap (do_swap_page under kvm_faultin_pfn's get_user_pages) finds
/// it in the swap cache while its write is in flight and maps it at once (a minor fault);
/// otherwise allocates a frame, reads the slot and blocks the virtual CPU until the read ends,
/// its instruction retried then. A fault that finds free memory at the min watermark after its
/// reclaim pass waits for the next write to end (reclaim_throttle) and retries.
/// </para>
/// <para>
/// kswapd (<see cref="Balance"/>) runs on a host CPU when a fault finds free memory below the low
/// watermark, and reclaims towards the high one; a fault at the min watermark reclaims itself.
/// Model: no asynchronous page faults
/// (KVM_FEATURE_ASYNC_PF: the guest cannot run another process meanwhile); pages merged by KSM
/// are not swapped (Linux swaps KSM pages since 2.6.33); the swap slot is freed when its page
/// comes back (as when swap is more than half full, vm_swap_full); the disk's completion
/// interrupts on the host cost no host CPU; the swap device is an SSD of the host's own, the
/// Intel X25-E data sheet's (<see cref="SolidStateDisk"/>), with the drive's 32 NCQ tags and a
/// first-come queue behind them. Guest memory mapped with 2 MiB EPT pages is not swapped
/// (refused before a run).
/// </para>
/// </remarks>
internal sealed class HostSwap
{
    /// <summary>SWAP_CLUSTER_MAX: the pages a reclaim pass aims to free (include/linux/swap.h).</summary>
    public const int ClusterPages = 32;

    /// <summary>The vector of kswapd's wake-up on the host CPU it runs on; it stands for the wake-up of its wait queue by an allocation that found free memory below the low watermark (wakeup_kswapd), a vector of its own so that the scheduler's tick accounting does not see it.</summary>
    public const int KswapdVector = 0xEA;

    /// <summary>Pages kswapd lets be written at once before it waits for one to end: BLKDEV_MAX_RQ, the 128 requests a queue holds before the block layer calls it congested (kswapd then waits in congestion_wait).</summary>
    private const int WritebackLimit = 128;

    /// <summary>The sectors of one 4 KiB page.</summary>
    private const int SectorsPerPage = PhysicalMemory.FrameBytes / 512;

    private readonly PhysicalMemory _memory;
    private readonly Simulator _sim;
    private readonly SwapArea _area;
    private readonly SolidStateDisk _disk;
    private readonly ulong _minFreeFrames;
    private readonly LinkedList<(VirtualMachine Vm, ulong Page)> _active = new(), _inactive = new();
    private readonly Dictionary<(int Vm, ulong Page), LinkedListNode<(VirtualMachine Vm, ulong Page)>> _onLru = [];
    private readonly Dictionary<(int Vm, ulong Page), SwapEntry> _entries = []; // looked up, never iterated
    private readonly List<SwapEntry> _unsubmitted = []; // a pass's writes, sent when its path has run
    private readonly List<VirtualCpu> _frameWaiters = [];
    private readonly Dictionary<int, long> _perVm = []; // each VM's pages in swap, by its index
    private readonly Action<VirtualCpu, ulong?> _wake;
    private readonly Action _wakeKswapd;
    private Tick _diskFree;
    private int _writes; // write requests in flight
    private int _pagesWriting; // pages whose timed writes are queued or in flight
    private bool _kswapdAwake; // woken and not yet balanced: no second wake-up
    private bool _kswapdCongested; // stopped at the write limit short of the high watermark: the next write's end wakes it

    private readonly Counter _swapOuts, _swapIns, _majorFaults, _minorFaults, _scanned, _aged, _writebackWaits, _writeRequests, _kswapdRuns, _kswapdCycles;
    private readonly Histogram _latency;

    /// <param name="host">The host's memory.</param>
    /// <param name="bytes">The swap area's size.</param>
    /// <param name="wake">Wakes a virtual CPU blocked for a page, with the EPT entry its read mapped (null for one that waited for free memory and retries).</param>
    /// <param name="wakeKswapd">Wakes kswapd on its host CPU (<see cref="KswapdVector"/>), which then runs <see cref="Balance"/>.</param>
    public HostSwap(Simulator sim, PhysicalMemory host, ulong bytes, StatGroup stats, Action<VirtualCpu, ulong?> wake, Action wakeKswapd)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(stats);
        (_sim, _memory, _wake, _wakeKswapd) = (sim, host, wake, wakeKswapd);
        _area = new SwapArea((int)(bytes / PhysicalMemory.FrameBytes), firstSector: 0);
        _disk = new SolidStateDisk(bytes / 512);
        _minFreeFrames = LinuxKernel.MinFreeFrames(host.SizeBytes);
        _swapOuts = stats.Counter("pswpout", "count", "guest pages the host wrote to its swap");
        _swapIns = stats.Counter("pswpin", "count", "guest pages the host read back from its swap");
        _majorFaults = stats.Counter("major_faults", "count", "guest touches of a page in the host's swap that read it back: an EPT violation that blocked the virtual CPU for the read, or the host's own access to the page, which takes it at once");
        _minorFaults = stats.Counter("swapcache_hits", "count", "guest touches of a page whose swap write was still in flight: mapped again at once from the swap cache");
        _scanned = stats.Counter("pages_scanned", "count", "guest pages host reclaim looked at on its LRU lists");
        _aged = stats.Counter("entries_aged", "count", "EPT entries zapped to see whether the guest touches the page again (KVM's accessed bit without EPT A/D flags)");
        _writebackWaits = stats.Counter("writeback_waits", "count", "guest faults that found the host's free memory at the min watermark after reclaim and waited for a swap write to end");
        _writeRequests = stats.Counter("write_requests", "count", "swap write requests sent to the host's disk (a pass's writes to consecutive slots merged)");
        _kswapdRuns = stats.Counter("kswapd_runs", "count", "kswapd's batches: woken below the low watermark (or by a write's end while it waited at its write limit), it reclaimed towards the high one");
        _kswapdCycles = stats.Counter("kswapd_cycles", "cycles", "host CPU cycles kswapd's batches took");
        _latency = stats.Histogram("major_fault_latency", "ns", "guest faults on a page in the host's swap, from the EPT violation's handler to the end of the read");
        stats.Probe("slots_used", "count", "host swap slots in use at the end", () => _area.Used);
        stats.Probe("free_frames", "count", "the host's free frames at the end", () => (long)_memory.FramesFree);
        stats.Probe("min_free_frames", "count", "the host's min watermark in frames (init_per_zone_wmark_min)", () => (long)_minFreeFrames);
    }

    /// <summary>Whether the guest page of <paramref name="gpa"/> is in swap: being written, written, or being read back.</summary>
    public bool Holds(VirtualMachine vm, ulong gpa) => _entries.ContainsKey(Key(vm, gpa));

    /// <summary>Whether a touch of the page of <paramref name="gpa"/>, in swap, needs a new frame: none is holding it (no write or read in flight).</summary>
    public bool NeedsFrame(VirtualMachine vm, ulong gpa) => _entries[Key(vm, gpa)].Frame is null;

    /// <summary>The guest pages of <paramref name="vm"/> in swap (written or being written).</summary>
    public long SwappedPages(VirtualMachine vm) => _perVm.GetValueOrDefault(vm.Index);

    /// <summary>A guest page just backed (first touch, read back, or copied out of a merged page): at the head of the active list.</summary>
    public void Added(VirtualMachine vm, ulong gpa)
    {
        (int, ulong) key = Key(vm, gpa);
        if (!_onLru.ContainsKey(key))
        {
            _onLru.Add(key, _active.AddFirst((vm, gpa / PhysicalMemory.FrameBytes)));
        }
    }

    /// <summary>
    /// Pages of a guest's boot that nothing touches again (its base system's idle daemons' memory
    /// and cached image): aged as the host's LRU would have aged them in the minutes after the
    /// boot, before the run (the settled host, as <see cref="SamePageMerging.SettleAtBoot"/> has
    /// it): their EPT entries zapped, as KVM's aging leaves a page the guest has not touched since,
    /// and the pages put on the inactive list as the newest there, so that the idle pages of guests
    /// booted earlier, nearer its tail, go first.
    /// </summary>
    public void SettleIdle(VirtualMachine vm, IEnumerable<ulong> gpas)
    {
        ArgumentNullException.ThrowIfNull(gpas);
        foreach (ulong gpa in gpas)
        {
            if (!_onLru.TryGetValue(Key(vm, gpa), out var node))
            {
                continue; // merged, or already sent to swap
            }
            if (vm.Ept!.ExistingEntryAddress(gpa) is { } entry)
            {
                _memory.WriteUInt64(entry, 0);
            }
            node.List!.Remove(node);
            _inactive.AddFirst(node);
        }
        vm.FlushTranslations();
    }

    /// <summary>A guest page no longer the host's to swap: given back by the balloon, or merged onto a KSM page.</summary>
    public void Removed(VirtualMachine vm, ulong gpa)
    {
        if (_onLru.Remove(Key(vm, gpa), out var node))
        {
            node.List!.Remove(node);
        }
    }

    /// <summary>
    /// The guest gave up a page in swap (its balloon): the slot freed; a write in flight
    /// forgotten, its frame freed now; a read in flight finishes into a page no one maps. False if
    /// the page was not in swap.
    /// </summary>
    public bool Forget(VirtualMachine vm, ulong gpa)
    {
        if (!_entries.Remove(Key(vm, gpa), out SwapEntry? entry))
        {
            return false;
        }
        Dropped(entry);
        if (entry.Frame is { } frame && !entry.Reading)
        {
            _memory.FreeFrame(frame);
        }
        entry.Cancelled = true;
        return true;
    }

    /// <summary>
    /// Makes room for a guest fault's page, charged to <paramref name="path"/>: a reclaim pass
    /// when free memory is at the min watermark. False when it is still there (the pass's writes
    /// have freed nothing yet): the fault waits (<see cref="WaitForFrame"/>).
    /// </summary>
    public bool MakeRoom(HypervisorPath path)
    {
        if (_memory.FramesFree <= LowWatermark && !_kswapdAwake && Short)
        {
            _kswapdAwake = true; // the allocation's fast path failed at the low watermark, and the writes in flight will not make up for it: wakeup_kswapd
            _wakeKswapd();
        }
        if (_memory.FramesFree > _minFreeFrames)
        {
            return true;
        }
        Reclaim(path);
        return _memory.FramesFree > _minFreeFrames;
    }

    /// <summary>
    /// Makes room at once, uncharged, for a page the host itself fills outside any guest's
    /// fault (a boot's pages, a device model's access): passes whose writes end at once, until
    /// free memory is above the min watermark. Throws where swap is full.
    /// </summary>
    public void MakeRoomNow(VirtualMachine vm, ulong gpa)
    {
        while (_memory.FramesFree <= _minFreeFrames)
        {
            if (Reclaim(null) == 0)
            {
                throw new InsufficientMemoryException($"{VirtualMachine.HostOutOfMemory} when {vm.Name} needed a frame for guest-physical 0x{gpa:X}: the host's {_memory.SizeBytes >> 20} MiB are in use and its {((long)_area.Slots * PhysicalMemory.FrameBytes) >> 20} MiB of swap {(_area.Used == _area.Slots ? "are full" : "hold every page it could take")}.");
            }
        }
    }

    /// <summary>The low watermark, below which a fault wakes kswapd: min + min/4 (setup_per_zone_wmarks).</summary>
    private ulong LowWatermark => _minFreeFrames + (_minFreeFrames / 4);

    /// <summary>The high watermark, up to which kswapd reclaims: min + min/2.</summary>
    private ulong HighWatermark => _minFreeFrames + (_minFreeFrames / 2);

    /// <summary>
    /// kswapd's batch (balance_pgdat), charged to <paramref name="path"/> on its host CPU: reclaim
    /// passes until the free frames and those being written reach the high watermark, or
    /// <see cref="WritebackLimit"/> pages are being written (it then waits for a write's end and
    /// goes on), or a pass finds nothing to take. Its writes go out when the path has run (<see cref="Submit"/>).
    /// </summary>
    public void Balance(HypervisorPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        _kswapdRuns.Increment();
        bool took = true;
        while (Short && _pagesWriting < WritebackLimit && took)
        {
            took = Reclaim(path) > 0;
        }
        _kswapdCongested = took && Short;
        _kswapdAwake = _kswapdCongested;
    }

    /// <summary>Free memory and the pages being written fall short of the high watermark.</summary>
    private bool Short => _memory.FramesFree + (ulong)_pagesWriting < HighWatermark;

    /// <summary>Records the host cycles a kswapd batch took.</summary>
    public void KswapdRan(long cycles) => _kswapdCycles.Add(cycles);

    /// <summary>
    /// After a guest's boot, the host as kswapd leaves it in the minutes before the run: free
    /// memory reclaimed up to the high watermark, uncharged, with writes that end at once (the
    /// settled host, as <see cref="SettleIdle"/> has it), so that the run does not start with every
    /// fault at the min watermark.
    /// </summary>
    public void SettleFree()
    {
        while (_memory.FramesFree < HighWatermark && Reclaim(null) > 0)
        {
        }
    }

    /// <summary>A guest fault that found no room blocks its virtual CPU until the next swap write ends, then retries.</summary>
    public void WaitForFrame(VirtualCpu vcpu)
    {
        if (_writes == 0 && !_unsubmitted.Any(e => !e.Reading))
        {
            throw new InsufficientMemoryException($"{VirtualMachine.HostOutOfMemory} when {vcpu.Vm.Name} touched a page: the host's {_memory.SizeBytes >> 20} MiB are in use and reclaim found nothing more to send to its {((long)_area.Slots * PhysicalMemory.FrameBytes) >> 20} MiB of swap ({_area.Used} slots used).");
        }
        _writebackWaits.Increment();
        _frameWaiters.Add(vcpu);
    }

    /// <summary>
    /// A guest's touch of a page in swap (an EPT violation, or with <paramref name="vcpu"/> null the
    /// host's own access, untimed): a page whose write is in flight is mapped again at once; one
    /// being read is waited for; otherwise a frame is allocated (the caller made room) and the read
    /// starts when the handler's path has run (<see cref="Submit"/>). Returns the EPT entry mapped
    /// at once, or null when the virtual CPU blocks for the read.
    /// </summary>
    public ulong? SwapIn(VirtualMachine vm, ulong gpa, VirtualCpu? vcpu, Tick now)
    {
        SwapEntry entry = _entries[Key(vm, gpa)];
        if (entry.Reading)
        {
            if (vcpu is null)
            {
                return FinishRead(entry);
            }
            entry.Waiters.Add(vcpu);
            return null;
        }
        if (entry.Frame is { } frame)
        {
            _minorFaults.Increment(); // still in the swap cache: its write goes on, to a slot no one needs
            return MapBack(entry, frame);
        }
        _majorFaults.Increment();
        vm.HostMajorFaults!.Increment();
        entry.Frame = vm.NewHostFrame(gpa);
        entry.Reading = true;
        if (vcpu is null)
        {
            return FinishRead(entry);
        }
        entry.Waiters.Add(vcpu);
        entry.Faulted = now;
        _unsubmitted.Add(entry);
        return null;
    }

    /// <summary>The reads and writes the handler just run decided on, sent to the disk at <paramref name="now"/> (the end of the handler's path).</summary>
    public void Submit(Tick now)
    {
        if (_unsubmitted.Count == 0)
        {
            return;
        }
        SwapEntry[] batch = [.. _unsubmitted];
        _unsubmitted.Clear();
        foreach (SwapEntry read in batch.Where(e => e.Reading))
        {
            Request([read], now, write: false);
        }
        SwapEntry[] writes = [.. batch.Where(e => !e.Reading).OrderBy(e => e.Slot)];
        for (int first = 0; first < writes.Length;)
        {
            int end = first + 1;
            while (end < writes.Length && writes[end].Slot == writes[end - 1].Slot + 1)
            {
                end++; // the plug merges a write to the next slot into the request
            }
            Request(writes[first..end], now, write: true);
            first = end;
        }
    }

    /// <summary>One request to the disk for <paramref name="pages"/> of consecutive slots; their ends when it completes.</summary>
    private void Request(SwapEntry[] pages, Tick now, bool write)
    {
        MediumAccess access = _disk.Access(_area.SectorOf(pages[0].Slot), pages.Length * SectorsPerPage, write);
        Tick start = Tick.Max(now, _diskFree);
        _diskFree = start + access.Occupancy;
        if (write)
        {
            _writeRequests.Increment();
            _writes++;
        }
        _sim.Schedule(new CallbackEvent(write ? "host.swap.written" : "host.swap.read", () =>
        {
            foreach (SwapEntry page in pages)
            {
                if (write)
                {
                    _pagesWriting--;
                    WriteEnded(page);
                }
                else if (!page.Done)
                {
                    ReadEnded(page);
                }
            }
            if (write)
            {
                _writes--;
                WakeFrameWaiters();
                if (_kswapdCongested)
                {
                    _kswapdCongested = false; // congestion_wait is over: kswapd goes on
                    _wakeKswapd();
                }
            }
        }), start + access.Latency);
    }

    /// <summary>
    /// One reclaim pass (shrink_lruvec): up to <see cref="ClusterPages"/> pages chosen and their
    /// writes queued (at once and complete where <paramref name="path"/> is null), every look at a
    /// page charged to <paramref name="path"/>. Returns the pages sent to swap.
    /// </summary>
    private int Reclaim(HypervisorPath? path)
    {
        var aged = new SortedSet<int>(); // the VMs whose entries were zapped, flushed once at the end
        var zapped = new List<VirtualMachine>();
        int taken = 0;
        for (int looked = 0; taken < ClusterPages && looked < (2 * _onLru.Count) + ClusterPages && _onLru.Count > 0; looked++)
        {
            if (_inactive.Count < _active.Count || _inactive.Count == 0)
            {
                // shrink_active_list: page_referenced clears the young bit, and the page goes inactive.
                LinkedListNode<(VirtualMachine Vm, ulong Page)> oldest = _active.Last!;
                _active.RemoveLast();
                Age(path, oldest.Value.Vm, oldest.Value.Page, aged, zapped);
                _inactive.AddFirst(oldest);
                continue;
            }
            LinkedListNode<(VirtualMachine Vm, ulong Page)> tail = _inactive.Last!;
            (VirtualMachine vm, ulong page) = tail.Value;
            _inactive.RemoveLast();
            if (Age(path, vm, page, aged, zapped))
            {
                _active.AddFirst(tail); // referenced since it went inactive: another round on the active list
                continue;
            }
            if (!_area.TryAllocate(out int slot))
            {
                _inactive.AddLast(tail);
                break; // swap is full
            }
            path?.Run(HypervisorRoutine.HostSwapOut);
            _onLru.Remove((vm.Index, page));
            ulong frame = vm.Unback(page * PhysicalMemory.FrameBytes);
            var entry = new SwapEntry(vm, page, slot) { Frame = frame };
            _entries.Add((vm.Index, page), entry);
            _perVm[vm.Index] = _perVm.GetValueOrDefault(vm.Index) + 1;
            _swapOuts.Increment();
            taken++;
            if (path is null)
            {
                WriteEnded(entry);
            }
            else
            {
                _unsubmitted.Add(entry);
                _pagesWriting++;
            }
        }
        foreach (VirtualMachine vm in zapped)
        {
            vm.FlushTranslations(); // kvm_flush_remote_tlbs, once per VM per pass
        }
        return taken;
    }

    /// <summary>
    /// page_referenced of a guest page through KVM (kvm_age_rmapp without EPT A/D flags): young if
    /// its EPT entry is there, which is zapped (the store charged) so the next look sees whether
    /// the guest touched it since.
    /// </summary>
    private bool Age(HypervisorPath? path, VirtualMachine vm, ulong page, SortedSet<int> aged, List<VirtualMachine> zapped)
    {
        _scanned.Increment();
        path?.Run(HypervisorRoutine.HostReclaimScan);
        ulong gpa = page * PhysicalMemory.FrameBytes;
        if (vm.Ept!.ExistingEntryAddress(gpa) is not { } entry || _memory.ReadUInt64(entry) == 0)
        {
            return false;
        }
        _memory.WriteUInt64(entry, 0);
        path?.StoreWords(entry, 1);
        _aged.Increment();
        if (aged.Add(vm.Index))
        {
            zapped.Add(vm);
        }
        return true;
    }

    /// <summary>A write ended: the page's words kept in its slot and its frame freed, unless the guest took the page back meanwhile.</summary>
    private void WriteEnded(SwapEntry entry)
    {
        if (entry.Cancelled || entry.Frame is not { } frame || entry.Reading)
        {
            return;
        }
        _area.Store(entry.Slot, 0, _memory.FrameWords(frame));
        _memory.FreeFrame(frame);
        entry.Frame = null;
    }

    /// <summary>A read ended: the page mapped, its waiters woken, its latency recorded.</summary>
    private void ReadEnded(SwapEntry entry)
    {
        if (entry.Cancelled)
        {
            _memory.FreeFrame(entry.Frame!.Value); // the balloon took the page meanwhile
            entry.Done = true;
            WakeAll(entry, null);
            return;
        }
        _latency.Record((long)((_sim.Now - entry.Faulted).Picoseconds / Tick.PicosecondsPerNanosecond));
        ulong mapped = FinishRead(entry);
        WakeAll(entry, mapped);
    }

    /// <summary>The slot's words into the page's new frame, and the page mapped (at once where the host itself wanted it).</summary>
    private ulong FinishRead(SwapEntry entry)
    {
        _memory.SetFrameWords(entry.Frame!.Value, _area.Load(entry.Slot).Words);
        _swapIns.Increment();
        entry.Done = true;
        return MapBack(entry, entry.Frame.Value);
    }

    /// <summary>The page backed by <paramref name="frame"/> again and mapped, its slot freed and the page at the head of the active list; returns its EPT entry.</summary>
    private ulong MapBack(SwapEntry entry, ulong frame)
    {
        _entries.Remove((entry.Vm.Index, entry.Page));
        Dropped(entry);
        entry.Reading = false;
        entry.Cancelled = true; // a write still in flight ends into a slot no one needs
        ulong gpa = entry.Page * PhysicalMemory.FrameBytes;
        ulong mapped = entry.Vm.Rebacked(gpa, frame);
        Added(entry.Vm, gpa);
        return mapped;
    }

    /// <summary>A page leaves swap: its slot freed and its VM's count of swapped pages lowered.</summary>
    private void Dropped(SwapEntry entry)
    {
        _area.Free(entry.Slot);
        _perVm[entry.Vm.Index]--;
    }

    private void WakeAll(SwapEntry entry, ulong? mapped)
    {
        foreach (VirtualCpu vcpu in entry.Waiters)
        {
            _wake(vcpu, mapped);
        }
        entry.Waiters.Clear();
    }

    private void WakeFrameWaiters()
    {
        VirtualCpu[] waiters = [.. _frameWaiters];
        _frameWaiters.Clear();
        foreach (VirtualCpu vcpu in waiters)
        {
            _wake(vcpu, null);
        }
    }

    private static (int, ulong) Key(VirtualMachine vm, ulong gpa) => (vm.Index, gpa / PhysicalMemory.FrameBytes);

    /// <summary>A guest page in swap (its swap cache entry): its slot, and its frame while its write or read is in flight.</summary>
    private sealed class SwapEntry(VirtualMachine vm, ulong page, int slot)
    {
        public VirtualMachine Vm { get; } = vm;

        public ulong Page { get; } = page;

        public int Slot { get; } = slot;

        /// <summary>The frame the page is in while its write is in flight or its read is.</summary>
        public ulong? Frame { get; set; }

        public bool Reading { get; set; }

        /// <summary>The read ended or was done at once: its request's end has nothing left to do.</summary>
        public bool Done { get; set; }

        /// <summary>The page left swap while a request for it was in flight (taken back, or given up by the balloon).</summary>
        public bool Cancelled { get; set; }

        public Tick Faulted { get; set; }

        public List<VirtualCpu> Waiters { get; } = [];
    }
}
