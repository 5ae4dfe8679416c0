using Sim.Engine.Statistics;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// Linux's completely fair scheduler (kernel/sched/fair.c, as of Linux 6.1, before EEVDF
/// replaced it in 6.6), under which KVM's virtual CPUs run as threads of the host: each core's
/// queue runs the entity of the least virtual runtime, its running time scaled by 1024 over its
/// weight (calc_delta_fair, NICE_0_LOAD). A running entity is preempted at a check (the tick's
/// check_preempt_tick) once it has run its slice, its weight's share of the scheduling period
/// (sched_slice, __sched_period: 6 ms, or 0.75 ms per runnable entity beyond 8), or once it
/// leads the queue's least by more than that after running at least the minimum granularity
/// (0.75 ms). A woken entity is placed no more than half a period behind the queue's minimum
/// (place_entity, GENTLE_FAIR_SLEEPERS), and preempts the one running if that one leads it by
/// more than the wakeup granularity (1 ms; wakeup_preempt_entity). The three times scale by
/// 1 + log2 of the host's CPUs, at most 8 (sysctl_sched_tunable_scaling's default,
/// SCHED_TUNABLESCALING_LOG). The tick is the host's HZ, 250 (Kconfig.hz's default).
/// </summary>
/// <remarks>
/// Load balancing: a core about to idle pulls a waiting virtual CPU from the busiest other core
/// (newidle balancing; own socket's first), one not run within the last 0.5 ms if there is one
/// (task_hot, sysctl_sched_migration_cost); and every balancing interval (the domain's CPUs in
/// milliseconds, 16 times that while the core is busy: sd_init's min_interval and busy_factor) a
/// core pulls one from a core that has at least two runnable entities more than it. A pulled
/// entity keeps its lag (its virtual runtime less its old queue's minimum, plus the new one's).
/// Model: a flat hierarchy (each virtual CPU weighs its VM's weight, mapped from Xen's 256 to
/// cgroup's 1024; libvirt's per-VM cgroups, which would split a VM's weight among its virtual
/// CPUs, are not modelled); a waking virtual CPU stays on its core (no select_idle_sibling: an
/// idle core takes it by balancing); the balancing counts runnable entities, not their
/// weighted, decayed load (PELT); the tick's preemption check runs at the first exit the tick causes;
/// no CFS bandwidth control, so no caps.
/// </remarks>
internal sealed class FairScheduler : VcpuScheduler
{
    /// <summary>The host's timer tick: HZ 250 (CONFIG_HZ's default in kernel/Kconfig.hz), 4 ms.</summary>
    public const ulong TickMicroseconds = 4_000;

    /// <summary>The weight of a nice-0 task (NICE_0_LOAD, scale_load_down'ed: 1024).</summary>
    private const long Nice0Weight = 1024;

    /// <summary>Runnable entities beyond which the period stretches (sched_nr_latency: 8).</summary>
    private const int NrLatency = 8;

    private readonly long _latency; // sysctl_sched_latency: 6 ms, scaled, in cycles
    private readonly long _minGranularity; // sysctl_sched_min_granularity: 0.75 ms, scaled
    private readonly long _wakeupGranularity; // sysctl_sched_wakeup_granularity: 1 ms, scaled
    private readonly ulong _migrationCost; // sysctl_sched_migration_cost: 0.5 ms, not scaled
    private readonly ulong _balanceInterval; // the domain's min_interval: one millisecond per CPU
    private readonly long[] _minVruntime; // per core: the queue's min_vruntime
    private readonly ulong[] _nextBalance; // per core: when its periodic balancing is next due
    private readonly bool[] _ticked; // per core: its tick has come since the last preemption check

    public FairScheduler(Machine machine, StatGroup stats, Action<int> tickle)
        : base(machine, stats, tickle, TickMicroseconds)
    {
        ulong hz = machine.Profile.FrequencyHz;
        long Cycles(ulong nanoseconds) => (long)(hz * nanoseconds / 1_000_000_000);
        int cpus = machine.Cores.Count;
        long factor = 1 + System.Numerics.BitOperations.Log2((uint)Math.Min(cpus, 8)); // get_update_sysctl_factor: 1 + ilog2(min(cpus, 8))
        _latency = Cycles(6_000_000) * factor;
        _minGranularity = Cycles(750_000) * factor;
        _wakeupGranularity = Cycles(1_000_000) * factor;
        _migrationCost = (ulong)Cycles(500_000);
        _balanceInterval = (ulong)cpus * hz / 1000;
        _minVruntime = new long[cpus];
        _nextBalance = new ulong[cpus];
        _ticked = new bool[cpus];
    }

    /// <summary>An entity's CFS weight: its weight, 256 by default as Xen's, mapped so that the default is cgroup's 1024 (a nice-0 thread).</summary>
    private static long WeightOf(SchedulingEntity e) => e.Weight * Nice0Weight / VcpuPlacement.DefaultWeight;

    protected override void Placing(SchedulingEntity entity)
    {
        if (entity.Cap > 0)
        {
            throw new InvalidOperationException("A cap under the CFS host scheduler would need CFS bandwidth control (cpu.cfs_quota_us), which the model does not have: use host_scheduler credit.");
        }
        entity.VRuntime = _minVruntime[entity.Physical];
    }

    /// <summary>
    /// update_curr: the running entity's virtual runtime advances by its running time, scaled by
    /// its weight; the queue's minimum follows the least of it and the waiting ones'.
    /// </summary>
    protected override void Account(int physical, ulong cycle)
    {
        if (Running[physical] is not { } running)
        {
            return;
        }
        running.VRuntime += (long)Charge(physical, cycle) * Nice0Weight / WeightOf(running);
        long least = long.MaxValue;
        foreach (SchedulingEntity e in Placed[physical])
        {
            if (e.State == VcpuState.Runnable)
            {
                least = Math.Min(least, e.VRuntime);
            }
        }
        if (least != long.MaxValue)
        {
            _minVruntime[physical] = Math.Max(_minVruntime[physical], least);
        }
    }

    /// <summary>place_entity and check_preempt_wakeup: the woken entity is placed at most half a period behind its queue's minimum, and preempts the one running if that one leads it by more than the wakeup granularity (or is not running at all).</summary>
    public override void Woken(SchedulingEntity entity, bool running)
    {
        int physical = entity.Physical;
        entity.VRuntime = Math.Max(entity.VRuntime, _minVruntime[physical] - (_latency / 2));
        if (running)
        {
            entity.Boosted = false;
            return;
        }
        SchedulingEntity current = Running[physical]!;
        entity.Boosted = current.State != VcpuState.Runnable || current.VRuntime - entity.VRuntime > _wakeupGranularity * Nice0Weight / WeightOf(entity);
    }

    /// <summary>__enqueue_entity: the walk down the timeline, ordered by virtual runtime, to the entity's place (<see cref="SearchPath"/>).</summary>
    public override IEnumerable<SchedulingEntity> InsertionWalk(SchedulingEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var timeline = Waiting(entity.Physical, entity).OrderBy(e => e.VRuntime).ToList();
        return SearchPath.Of(timeline, e => entity.VRuntime < e.VRuntime);
    }

    /// <summary>pick_next_task_fair after <paramref name="current"/> blocks, powers off or yields (the yield's skip buddy: another runs if there is one); with nothing to run, newidle balancing.</summary>
    public override SchedulingEntity? Next(SchedulingEntity current)
    {
        ulong cycle = current.Core.LocalCycle;
        Account(current.Physical, cycle);
        if (Least(current) is { } next)
        {
            return next;
        }
        return current.State == VcpuState.Runnable ? null : Pull(current.Physical, cycle, newIdle: true);
    }

    /// <summary>scheduler_tick: the next check of <paramref name="physical"/>'s running entity is the tick's (check_preempt_tick).</summary>
    public override void Ticked(int physical) => _ticked[physical] = true;

    /// <summary>
    /// A woken entity that preempts (check_preempt_wakeup's resched), and at the tick
    /// (check_preempt_tick), once <paramref name="current"/> has run its slice, or has run the
    /// minimum granularity and leads the queue's least by more than its slice, the least, if it is
    /// still behind <paramref name="current"/> (pick_next_entity takes the leftmost, which may be
    /// the one running); and the periodic balancing when it is due.
    /// </summary>
    public override SchedulingEntity? Preempting(SchedulingEntity current, ulong cycle)
    {
        int physical = current.Physical;
        bool balance = Balancing && cycle >= _nextBalance[physical];
        if (Placed[physical].Count < 2 && !balance)
        {
            return null;
        }
        Account(physical, cycle);
        if (balance)
        {
            _nextBalance[physical] = cycle + (_balanceInterval * 16); // busy: busy_factor 16
            Pull(physical, cycle, newIdle: false);
        }
        if (Least(current) is not { } next)
        {
            return null;
        }
        if (next.Boosted)
        {
            return next;
        }
        if (!_ticked[physical])
        {
            return null;
        }
        _ticked[physical] = false;
        long slice = Slice(current);
        long ran = (long)(cycle - current.SliceStart);
        if (ran <= slice && (ran < _minGranularity || current.VRuntime - next.VRuntime <= slice))
        {
            return null;
        }
        if (next.VRuntime <= current.VRuntime)
        {
            return next;
        }
        current.SliceStart = cycle; // resched, but pick_next_entity picks it again, the leftmost still: a new slice
        return null;
    }

    /// <summary>sched_slice: the period (sched_latency, or min_granularity per runnable entity beyond sched_nr_latency) shared by weight among the core's runnable entities.</summary>
    private long Slice(SchedulingEntity current)
    {
        long load = 0;
        int runnable = 0;
        foreach (SchedulingEntity e in Placed[current.Physical])
        {
            if (e.State == VcpuState.Runnable)
            {
                load += WeightOf(e);
                runnable++;
            }
        }
        long period = runnable > NrLatency ? runnable * _minGranularity : _latency;
        return load == 0 ? period : period * WeightOf(current) / load;
    }

    /// <summary>The runnable entity other than <paramref name="current"/> of the least virtual runtime on its core, the first in turn after it among equals.</summary>
    private SchedulingEntity? Least(SchedulingEntity current) => FirstInTurn(current, static (e, least) => e.VRuntime < least.VRuntime);

    /// <summary>
    /// load_balance, pulling one waiting virtual CPU to <paramref name="physical"/> from the busiest
    /// other core (the most runnable entities; its own socket's first among equals): newly idle,
    /// from any core with one waiting; periodically, only from one with two runnable more than
    /// this core. One not run in the last 0.5 ms is taken before a cache-hot one. Null if none.
    /// </summary>
    private VirtualCpu? Pull(int physical, ulong cycle, bool newIdle)
    {
        if (!Balancing)
        {
            return null;
        }
        int mine = Placed[physical].Count(e => e.State == VcpuState.Runnable);
        int busiest = -1, most = newIdle ? 1 : mine + 1;
        foreach (int peer in PeersOf(physical))
        {
            int runnable = Placed[peer].Count(e => e.State == VcpuState.Runnable);
            if (runnable > most && Placed[peer].Exists(e => e is VirtualCpu v && Migrateable(v, cycle)))
            {
                (busiest, most) = (peer, runnable);
            }
        }
        if (busiest < 0)
        {
            return null;
        }
        VirtualCpu? hot = null;
        foreach (SchedulingEntity e in Placed[busiest])
        {
            if (e is VirtualCpu v && Migrateable(v, cycle))
            {
                if (cycle - Math.Min(cycle, v.ChargedTo) >= _migrationCost)
                {
                    Move(v, physical);
                    return v;
                }
                hot ??= v;
            }
        }
        Move(hot!, physical);
        return hot;
    }

    /// <summary>migrate_task_rq_fair and enqueue: the moved entity keeps its lag behind its old queue's minimum, now behind this one's.</summary>
    protected override void Moved(VirtualCpu vcpu, int from) => vcpu.VRuntime += _minVruntime[vcpu.Physical] - _minVruntime[from];
}
