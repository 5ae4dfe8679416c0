using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Memory;

namespace Sim.Models.Virtualization;

/// <summary>
/// The host's per-CPU structures that a VT-x hypervisor's handlers touch when they schedule or
/// arm a timer, as loads, stores and locked operations on the host's memory, so that their cost
/// comes from the caches: each physical CPU's run queue and its timer queue, a frame per CPU.
/// <list type="bullet">
/// <item>The run queue: Linux's struct rq (kernel/sched/sched.h) with its lock, and nr_running,
/// clock and curr with the CFS timeline (an rb-tree of the waiting tasks' sched_entity,
/// kernel/sched/fair.c), or Xen credit's per-CPU runq (a list kept in priority order,
/// common/sched/credit.c, __runq_insert). Which waiting entities an insertion reads is the
/// scheduler's (<see cref="VcpuScheduler.InsertionWalk"/>).</item>
/// <item>The timer queue: Linux's struct hrtimer_cpu_base (its lock and expires_next) and its
/// monotonic clock base's timerqueue, an rb-tree of the armed hrtimers ordered by expiry
/// (kernel/time/hrtimer.c); Xen keeps a per-CPU heap (common/timer.c), also searched in
/// logarithmic steps. Each virtual CPU's virtual local-APIC timer is one of them (KVM's
/// apic->lapic_timer.timer, started by start_apic_timer; Xen's vlapic periodic_time), and so
/// is the host's own tick (tick_sched_timer).</item>
/// </list>
/// An entity's own node (a virtual CPU's sched_entity, and its timer's hrtimer) is a line of its
/// virtual CPU's structure; a host process's node is a line of its CPU's frame. Where in a frame
/// each field lies is assumed (a line each); the kernel's layout is not modelled further.
/// </summary>
internal sealed class HostCpuStructures
{
    /// <summary>Where in a virtual CPU's structure its thread's sched_entity and its local-APIC timer's hrtimer are (assumed: free lines after the exit information and requests).</summary>
    private const ulong SchedEntityOffset = 256, TimerNodeOffset = 320;

    private const ulong RunQueueLock = 0, RunQueue = 64, TimerBaseLock = 128, TimerQueue = 192, HostTickNode = 256, HostProcessNodes = 320;

    /// <summary>The lines left in a CPU's frame for host processes' nodes (a process past them shares one).</summary>
    private const ulong HostProcessLines = (PhysicalMemory.FrameBytes - HostProcessNodes) / 64;

    private readonly ulong[] _frames;
    private readonly VectorCounter<MonitorStructures.Lookup> _lookups;
    private readonly Dictionary<SchedulingEntity, int> _hostProcessNodes = [];
    private readonly List<VirtualCpu>[] _expired; // per CPU: virtual timers that expired there since its handlers last ran

    public HostCpuStructures(PhysicalMemory memory, int cpus, VectorCounter<MonitorStructures.Lookup> lookups)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _frames = [.. Enumerable.Range(0, cpus).Select(_ => memory.AllocateFrame())];
        _lookups = lookups;
        _expired = [.. Enumerable.Range(0, cpus).Select(_ => new List<VirtualCpu>())];
    }

    /// <summary>The line of the host's own tick timer (tick_sched_timer) on <paramref name="physical"/>.</summary>
    public ulong TickNodeOf(int physical) => _frames[physical] + HostTickNode;

    /// <summary>The line of <paramref name="entity"/>'s sched_entity.</summary>
    public ulong NodeOf(SchedulingEntity entity)
    {
        if (entity is VirtualCpu vcpu)
        {
            return vcpu.Registers + SchedEntityOffset;
        }
        if (!_hostProcessNodes.TryGetValue(entity, out int index))
        {
            index = _hostProcessNodes.Count;
            _hostProcessNodes.Add(entity, index);
        }
        return _frames[entity.Physical] + HostProcessNodes + ((ulong)index % HostProcessLines * 64);
    }

    /// <summary>The line of <paramref name="vcpu"/>'s virtual timer's hrtimer.</summary>
    public static ulong TimerNodeOf(VirtualCpu vcpu) => vcpu.Registers + TimerNodeOffset;

    /// <summary>
    /// A running entity leaves its CPU's queue as it blocks (deactivate_task's dequeue, or Xen's
    /// csched_vcpu_sleep): the run queue locked, its clock and count updated, the entity's own
    /// node written (its runtime charged, its on_rq cleared). The running entity is kept out of
    /// the tree, so no waiting one is read.
    /// </summary>
    public void Dequeue(HypervisorPath path, SchedulingEntity entity)
    {
        ulong node = NodeOf(entity);
        LockRunQueue(path, entity.Physical).LoadWords(node, 1).StoreWords(node, 1);
    }

    /// <summary>
    /// A woken entity joins its CPU's queue (try_to_wake_up: its pi_lock, then the run queue's
    /// lock, update_rq_clock, enqueue_entity's walk down to its place and its node linked in;
    /// check_preempt_wakeup reads the running one's node).
    /// </summary>
    public void Enqueue(HypervisorPath path, SchedulingEntity entity, IEnumerable<SchedulingEntity> walk, SchedulingEntity? running)
    {
        ArgumentNullException.ThrowIfNull(walk);
        ulong node = NodeOf(entity);
        path.Atomic(node);
        Insert(path, entity, walk);
        if (running is not null && running != entity)
        {
            path.LoadWords(NodeOf(running), 1);
        }
    }

    /// <summary>
    /// The scheduler hands the CPU from <paramref name="from"/> to <paramref name="to"/>
    /// (__schedule: the run queue locked, its clock updated; put_prev_entity puts a still
    /// runnable <paramref name="from"/> back in the tree through <paramref name="walk"/>;
    /// pick_next_entity takes <paramref name="to"/>'s node out; rq->curr written).
    /// </summary>
    public void Switch(HypervisorPath path, SchedulingEntity from, SchedulingEntity to, IEnumerable<SchedulingEntity>? walk)
    {
        ulong frame = _frames[to.Physical];
        if (walk is not null)
        {
            Insert(path, from, walk);
        }
        else
        {
            _lookups.Increment(MonitorStructures.Lookup.RunQueue);
            path.Atomic(frame + RunQueueLock).LoadWords(frame + RunQueue, 1);
        }
        ulong next = NodeOf(to);
        path.LoadWords(next, 1).StoreWords(next, 1).StoreWords(frame + RunQueue, 1);
    }

    /// <summary>
    /// The scheduler's tick on <paramref name="running"/>'s CPU (scheduler_tick: the run queue
    /// locked, its clock updated; update_curr, or Xen's burn_credits, charges the running
    /// entity's node).
    /// </summary>
    public void Tick(HypervisorPath path, SchedulingEntity running)
    {
        ulong node = NodeOf(running);
        LockRunQueue(path, running.Physical).LoadWords(node, 1).StoreWords(node, 1);
    }

    /// <summary>
    /// A virtual CPU's virtual timer armed or stopped on <paramref name="physical"/>
    /// (hrtimer_start_range_ns, or hrtimer_cancel when <paramref name="expiry"/> is null): the
    /// timer base locked, its node taken out if it was queued, and when armed, the timerqueue's
    /// search down to its place through the armed timers <paramref name="armed"/> (their expiries;
    /// the search reads the nodes a balanced tree's would) and its node linked in, with the base's
    /// next expiry read and, if it is now the first, written.
    /// </summary>
    public void ArmTimer(HypervisorPath path, int physical, VirtualCpu vcpu, Tick? expiry, bool wasArmed, IReadOnlyList<(Tick Expiry, ulong Node)> armed)
    {
        ArgumentNullException.ThrowIfNull(armed);
        _lookups.Increment(MonitorStructures.Lookup.TimerQueue);
        ulong frame = _frames[physical];
        ulong node = TimerNodeOf(vcpu);
        path.Atomic(frame + TimerBaseLock);
        if (wasArmed)
        {
            path.LoadWords(node, 1).StoreWords(node, 1).StoreWords(frame + TimerQueue, 1); // __remove_hrtimer: rb_erase and the cached leftmost
        }
        if (expiry is { } at)
        {
            EnqueueTimer(path, frame, node, at, armed);
        }
    }

    /// <summary>The timerqueue's search to the timer's place, its node linked in, and the base's next expiry read and, if it is now the first, written (hrtimer_reprogram).</summary>
    private static void EnqueueTimer(HypervisorPath path, ulong frame, ulong node, Tick at, IReadOnlyList<(Tick Expiry, ulong Node)> armed)
    {
        var sorted = armed.OrderBy(t => t.Expiry.Picoseconds).ToList();
        foreach ((Tick _, ulong other) in SearchPath.Of(sorted, t => at.Picoseconds < t.Expiry.Picoseconds))
        {
            path.LoadWords(other, 1);
        }
        path.StoreWords(node, 1).StoreWords(frame + TimerQueue, 1).LoadWords(frame + TimerBaseLock, 1);
        if (sorted.Count == 0 || at.Picoseconds < sorted[0].Expiry.Picoseconds)
        {
            path.StoreWords(frame + TimerBaseLock, 1);
        }
    }

    /// <summary>A virtual CPU's virtual timer expired: its CPU's handlers take it out of the timer queue next time they run there (<see cref="RunExpiredTimers"/>).</summary>
    public void TimerExpired(VirtualCpu vcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        _expired[vcpu.Physical].Add(vcpu);
    }

    /// <summary>
    /// The virtual timers that expired on <paramref name="physical"/> since its handlers last ran,
    /// as hrtimer_interrupt's __hrtimer_run_queues takes each: the base locked, the first timer
    /// read from the timerqueue and its node taken out, expires_next written; a periodic one
    /// (apic_timer_fn's HRTIMER_RESTART) queued again at its next expiry,
    /// <paramref name="rearmed"/>, among the timers <paramref name="armed"/> gives. The model runs
    /// them in the next handler on that CPU (the kick's, or the wake-up's) rather than in a host
    /// timer interrupt of their own.
    /// </summary>
    public void RunExpiredTimers(HypervisorPath path, int physical, Func<VirtualCpu, Tick?> rearmed, Func<VirtualCpu, IReadOnlyList<(Tick Expiry, ulong Node)>> armed)
    {
        ArgumentNullException.ThrowIfNull(rearmed);
        ArgumentNullException.ThrowIfNull(armed);
        ulong frame = _frames[physical];
        foreach (VirtualCpu vcpu in _expired[physical])
        {
            _lookups.Increment(MonitorStructures.Lookup.TimerQueue);
            ulong node = TimerNodeOf(vcpu);
            path.Atomic(frame + TimerBaseLock).LoadWords(frame + TimerQueue, 1).LoadWords(node, 1).StoreWords(node, 1).StoreWords(frame + TimerQueue, 1).StoreWords(frame + TimerBaseLock, 1);
            if (rearmed(vcpu) is { } next)
            {
                EnqueueTimer(path, frame, node, next, armed(vcpu));
            }
        }
        _expired[physical].Clear();
    }

    /// <summary>The run queue of <paramref name="physical"/> locked, its header (count, clock) read and written.</summary>
    private HypervisorPath LockRunQueue(HypervisorPath path, int physical)
    {
        _lookups.Increment(MonitorStructures.Lookup.RunQueue);
        ulong frame = _frames[physical];
        return path.Atomic(frame + RunQueueLock).LoadWords(frame + RunQueue, 1).StoreWords(frame + RunQueue, 1);
    }

    /// <summary>The run queue locked and updated, then the walk's nodes read and the entity's node linked in.</summary>
    private void Insert(HypervisorPath path, SchedulingEntity entity, IEnumerable<SchedulingEntity> walk)
    {
        LockRunQueue(path, entity.Physical);
        foreach (SchedulingEntity passed in walk)
        {
            path.LoadWords(NodeOf(passed), 1);
        }
        path.StoreWords(NodeOf(entity), 1);
    }
}
