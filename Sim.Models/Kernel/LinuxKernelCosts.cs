namespace Sim.Models.Kernel;

/// <summary>
/// What each kernel routine does besides the memory traffic and privileged operations its path
/// makes explicitly: its bookkeeping instructions, its locked operations (spin-lock acquisitions
/// and atomic reference counts, on the routine's own lock line) and its interrupt-disabled
/// sections (spin_lock_irqsave and local_irq_save: PUSHF, CLI ... POPF, through
/// <see cref="IPrivilegedOperations"/>). No source in hand gives these per path for Linux 2.6 on
/// x86-64, so all three are assumed orders of magnitude, sized from what each path does in that
/// kernel (docs/machine.md): copy_process sets up credentials, files, fs, signal handlers, pid,
/// scheduler and /proc state, taking and counting a reference on most of them; do_exit tears the
/// same down and notifies the parent; wait4 reaps through release_task; the page-fault paths find
/// the VMA under mmap_sem, take the page-table lock and update the LRU lists; the page allocator
/// takes the zone lock with interrupts off. They are not fitted to any published figure.
/// </summary>
public sealed class LinuxKernelCosts
{
    private readonly RoutineCost[] _costs;

    public LinuxKernelCosts(IReadOnlyDictionary<KernelRoutine, RoutineCost> costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        _costs = new RoutineCost[Enum.GetValues<KernelRoutine>().Length];
        foreach (KernelRoutine r in Enum.GetValues<KernelRoutine>())
        {
            if (!costs.TryGetValue(r, out RoutineCost c) || c.Instructions <= 0 || c.LockedOperations < 0 || c.InterruptDisables < 0)
            {
                throw new ArgumentException($"The kernel costs need a positive instruction count (and no negative counts) for {r}.", nameof(costs));
            }
            _costs[(int)r] = c;
        }
    }

    public RoutineCost this[KernelRoutine routine] => _costs[(int)routine];

    /// <summary>
    /// The added routines, assumed as the others are: waking a process on another CPU runs a few
    /// hundred instructions of enqueueing and preemption checks besides the run queue's lock,
    /// which the path takes itself; an idle CPU's load_balance walks every CPU's load and moves a
    /// task, about two thousand. A futex call hashes its key (jhash2 over three words) and walks
    /// or joins one bucket's chain, a few hundred instructions either way; the bucket's lock, the
    /// read of the user's word and the wake-ups are the path's own steps. mprotect finds and splits
    /// the VMA under mmap_sem and walks to the page tables, about as much as an mmap. A zone batch
    /// unlinks or links 31 pages of the buddy lists, some 50 instructions each, with interrupts off.
    /// sched_setaffinity looks the task up, intersects the mask with its cpuset and copies it under
    /// the task's run queue lock, a few hundred (500 assumed). sched_getaffinity looks the task up and
    /// intersects its mask with the active CPUs under its lock, a little less (300 assumed).
    /// </summary>
    public RoutineCost this[AddedRoutine routine] => routine switch
    {
        AddedRoutine.RemoteWakeup => new(300, LockedOperations: 1),
        AddedRoutine.LoadBalance => new(2_000, LockedOperations: 2),
        AddedRoutine.FlushTlbFunction => new(200, LockedOperations: 1),
        AddedRoutine.FutexWait => new(400, LockedOperations: 1),
        AddedRoutine.FutexWake => new(300, LockedOperations: 1),
        AddedRoutine.Mprotect => new(1_200, LockedOperations: 4, InterruptDisables: 1),
        AddedRoutine.ZoneBatch => new(1_500, InterruptDisables: 1),
        AddedRoutine.SetAffinity => new(500, LockedOperations: 1, InterruptDisables: 1),
        AddedRoutine.GetAffinity => new(300, LockedOperations: 1, InterruptDisables: 1),
        _ => throw new ArgumentOutOfRangeException(nameof(routine), routine, null),
    };

    /// <summary>
    /// The reclaim routines, assumed as the others are (no source in hand measures them per page):
    /// a pass's setup picks the lists to scan and their share and takes the LRU lock with
    /// interrupts off to isolate a batch, about a thousand instructions; looking at one page
    /// (trylock_page, the flag tests, page_referenced for an unmapped page, putting it back) about
    /// 150; freeing a clean unmapped page cache page (the radix-tree delete under tree_lock,
    /// clearing its mapping, the pagevec) about 300, with the lock and the interrupt-disabled
    /// section it takes. Freeing the frame itself is the page allocator's own step.
    /// </summary>
    public RoutineCost this[ReclaimRoutine routine] => routine switch
    {
        ReclaimRoutine.ReclaimPass => new(1_000, LockedOperations: 2, InterruptDisables: 1),
        ReclaimRoutine.ScanPage => new(150),
        ReclaimRoutine.RemoveMapping => new(300, LockedOperations: 1, InterruptDisables: 1),
        _ => throw new ArgumentOutOfRangeException(nameof(routine), routine, null),
    };

    /// <summary>
    /// The transparent huge page routines, assumed (no per-path instruction count in hand): a huge
    /// fault's bookkeeping is a demand-zero fault's and more (the charge of 512 pages, the deposited
    /// table, the compound page's setup), 1,500; a split's setup about a thousand, then per page
    /// about 20 instructions and the locked increment of its map count (__split_huge_pmd_locked's
    /// loop); copying a huge entry at fork about 600 with both pmd locks; zapping one about 500.
    /// khugepaged's check of a range about 10 instructions per entry (5,000); a collapse's bookkeeping
    /// about 2,000 with the mmap lock, and 40 per page isolated (lock_page, isolate_lru_page).
    /// </summary>
    public RoutineCost this[HugePageRoutine routine] => routine switch
    {
        HugePageRoutine.Fault => new(1_500, LockedOperations: 8, InterruptDisables: 1),
        HugePageRoutine.Split => new(1_000, LockedOperations: 2),
        HugePageRoutine.SplitPerPage => new(20, LockedOperations: 1),
        HugePageRoutine.Copy => new(600, LockedOperations: 4),
        HugePageRoutine.Zap => new(500, LockedOperations: 3),
        HugePageRoutine.ScanRange => new(5_000, LockedOperations: 2),
        HugePageRoutine.Collapse => new(2_000, LockedOperations: 6, InterruptDisables: 1),
        HugePageRoutine.CollapsePerPage => new(40, LockedOperations: 2),
        _ => throw new ArgumentOutOfRangeException(nameof(routine), routine, null),
    };

    /// <summary>
    /// The swap routines, assumed (no per-path instruction count in hand): sending one anonymous
    /// page to swap (add_to_swap, try_to_unmap_one, swap_writepage) about 1,500 instructions with
    /// the swap cache's and the page table's locks; a write's end and the page's removal from the
    /// swap cache about 600; a swap-in's lookup, swap-cache insertion and bio about 1,200; its
    /// mapping (do_swap_page's second half) about 1,000, a demand-zero fault's bookkeeping and the
    /// swap slot's release. The disk's time is the medium's, not these.
    /// </summary>
    public RoutineCost this[SwapRoutine routine] => routine switch
    {
        SwapRoutine.SwapOut => new(1_500, LockedOperations: 8, InterruptDisables: 2),
        SwapRoutine.WritebackEnd => new(600, LockedOperations: 4, InterruptDisables: 1),
        SwapRoutine.SwapInStart => new(1_200, LockedOperations: 6, InterruptDisables: 1),
        SwapRoutine.SwapInMap => new(1_000, LockedOperations: 6, InterruptDisables: 1),
        _ => throw new ArgumentOutOfRangeException(nameof(routine), routine, null),
    };

    /// <summary>
    /// The bridged network's routines, assumed (no per-frame instruction count in hand), from the
    /// functions each runs (<see cref="BridgeRoutine"/>): veth_xmit and netif_rx's enqueue about 300,
    /// the backlog's softirq and __netif_receive_skb_core about 300, br_handle_frame with the FDB's
    /// learning and lookup about 400, br_forward and dev_queue_xmit's qdisc about 400; about 1,400
    /// each way, with the backlog's, the FDB's and the qdisc's locks and two interrupt-disabled
    /// sections (the backlog's enqueue and its softirq's dequeue). docs/virtualization.md compares
    /// the result with [FE14]'s measured overhead of Docker's bridge (with NAT).
    /// </summary>
    public RoutineCost this[BridgeRoutine routine] => routine switch
    {
        BridgeRoutine.VethTransmit => new(1_400, LockedOperations: 4, InterruptDisables: 2),
        BridgeRoutine.BridgeReceive => new(1_400, LockedOperations: 4, InterruptDisables: 2),
        _ => throw new ArgumentOutOfRangeException(nameof(routine), routine, null),
    };

    /// <summary>
    /// The NAT's netfilter routines, assumed from the functions each runs (<see cref="NatRoutine"/>;
    /// no per-frame instruction count in hand): conntrack's lookup about 700 (the jhash of the
    /// tuple, the bucket walk under RCU, the refresh with its lock), the rewrite about 300, the
    /// FORWARD chain's six rules about 600 (ipt_do_table's entry, a match and a target a rule).
    /// docs/virtualization.md compares the result with [FE14]'s measured overhead of Docker's NAT.
    /// </summary>
    public RoutineCost this[NatRoutine routine] => routine switch
    {
        NatRoutine.ConntrackLookup => new(700, LockedOperations: 2, InterruptDisables: 0),
        NatRoutine.NatRewrite => new(300, LockedOperations: 0, InterruptDisables: 0),
        NatRoutine.ForwardFilter => new(600, LockedOperations: 0, InterruptDisables: 0),
        _ => throw new ArgumentOutOfRangeException(nameof(routine), routine, null),
    };

    /// <summary>
    /// The asynchronous I/O routines (<see cref="AioRoutine"/>), assumed (no per-call instruction
    /// count in hand) from the functions each runs in fs/aio.c and block/fops.c: a context's set-up
    /// about 3,000 (once a process); one iocb's submission up to submit_bio about 1,200 (the iocb's
    /// copy, the kiocb's allocation, the direct I/O's bio with its pinned page); a completion about
    /// 500 (aio_complete's locked ring update and the wake-up); a read of the ring about 400 before
    /// the events' copy. The block layer's request and completion are its own routines.
    /// </summary>
    public RoutineCost this[AioRoutine routine] => routine switch
    {
        AioRoutine.Setup => new(3_000, LockedOperations: 10, InterruptDisables: 1),
        AioRoutine.SubmitOne => new(1_200, LockedOperations: 4, InterruptDisables: 1),
        AioRoutine.Complete => new(500, LockedOperations: 3, InterruptDisables: 1),
        AioRoutine.ReadEvents => new(400, LockedOperations: 2, InterruptDisables: 0),
        _ => throw new ArgumentOutOfRangeException(nameof(routine), routine, null),
    };

    public static readonly LinuxKernelCosts Default = new(new Dictionary<KernelRoutine, RoutineCost>
    {
        [KernelRoutine.SyscallEntry] = new(30),
        [KernelRoutine.Fork] = new(15_000, LockedOperations: 150, InterruptDisables: 20),
        [KernelRoutine.ForkPerRegion] = new(600, LockedOperations: 4, InterruptDisables: 1),
        [KernelRoutine.PerPteCopy] = new(40),
        [KernelRoutine.Exit] = new(12_000, LockedOperations: 120, InterruptDisables: 20),
        [KernelRoutine.ExitPerRegion] = new(500, LockedOperations: 3, InterruptDisables: 1),
        [KernelRoutine.PageAllocator] = new(300, LockedOperations: 1, InterruptDisables: 1),
        [KernelRoutine.PerPteUnmap] = new(40),
        [KernelRoutine.PerTableFree] = new(100, LockedOperations: 1, InterruptDisables: 1),
        [KernelRoutine.Wait] = new(5_000, LockedOperations: 40, InterruptDisables: 8),
        [KernelRoutine.ContextSwitch] = new(1_500, LockedOperations: 4, InterruptDisables: 2),
        [KernelRoutine.DemandZeroFault] = new(1_000, LockedOperations: 6, InterruptDisables: 1),
        [KernelRoutine.CopyOnWriteFault] = new(1_500, LockedOperations: 8, InterruptDisables: 1),
        [KernelRoutine.FileFault] = new(1_200, LockedOperations: 8, InterruptDisables: 1),
        [KernelRoutine.TimerTick] = new(500, LockedOperations: 6, InterruptDisables: 1),
        [KernelRoutine.Mmap] = new(1_500, LockedOperations: 6, InterruptDisables: 1),
        [KernelRoutine.BlockRequest] = new(1_000, LockedOperations: 6, InterruptDisables: 2),
        [KernelRoutine.BlockCompletion] = new(500, LockedOperations: 6, InterruptDisables: 2),
        [KernelRoutine.NetworkSend] = new(2_500, LockedOperations: 10, InterruptDisables: 3),
        [KernelRoutine.NetworkReceive] = new(2_000, LockedOperations: 10, InterruptDisables: 3),
        [KernelRoutine.Open] = new(1_000, LockedOperations: 12, InterruptDisables: 2),
        [KernelRoutine.FileRead] = new(400, LockedOperations: 4, InterruptDisables: 1),
        [KernelRoutine.FileWrite] = new(500, LockedOperations: 6, InterruptDisables: 1),
        [KernelRoutine.Close] = new(200, LockedOperations: 6, InterruptDisables: 1),
        [KernelRoutine.Exec] = new(15_000, LockedOperations: 100, InterruptDisables: 15),
        [KernelRoutine.SignalAction] = new(300, LockedOperations: 2, InterruptDisables: 1),
        [KernelRoutine.Kill] = new(700, LockedOperations: 4, InterruptDisables: 2),
        [KernelRoutine.SignalDelivery] = new(1_500, LockedOperations: 4, InterruptDisables: 2),
        [KernelRoutine.SignalReturn] = new(800, LockedOperations: 2, InterruptDisables: 1),
        [KernelRoutine.PathComponent] = new(250, LockedOperations: 2),
        [KernelRoutine.Stat] = new(400, LockedOperations: 2),
        [KernelRoutine.NamespaceLookup] = new(40),
        [KernelRoutine.CgroupAccounting] = new(60, LockedOperations: 1),
    });
}

/// <summary>One kernel routine's bookkeeping: instructions, locked operations, interrupt-disabled sections.</summary>
public readonly record struct RoutineCost(int Instructions, int LockedOperations = 0, int InterruptDisables = 0);
