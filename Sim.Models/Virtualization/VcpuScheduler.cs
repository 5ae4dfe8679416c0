using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// The host's scheduler of virtual CPUs (and, hosted, the host's processes) on its physical
/// cores: what every policy shares. Each physical core has a queue of the entities placed on it
/// and runs one of them at a time; the policy (<see cref="CreditScheduler"/>, Xen's credit;
/// <see cref="FairScheduler"/>, Linux's CFS, under which KVM's virtual CPUs run as threads)
/// decides which and when, and which waiting virtual CPU an idle or underloaded core pulls from
/// another core's queue. A pulled one migrates: its context moves to the new core's MMU and
/// caches (<see cref="VirtualCpu.Migrate"/>), so its translations and lines are refetched there,
/// and its switch path does a migration's extra steps. A virtual CPU preempted while another
/// core idles for a blocked or powered-off one tickles that core (Xen's __runq_tickle of an
/// idler, Linux's nohz idle-balance kick), which wakes and pulls it. A core with more than one
/// entity, or a capped one, runs the policy's periodic tick on its local APIC; a core with one
/// uncapped entity stays tickless and meets its scheduler at its next exit. On a host whose
/// cores run two hardware threads there is no migration (a hardware thread's own context is
/// tied to its sibling in the model).
/// </summary>
internal abstract class VcpuScheduler
{
    /// <summary>The vector of the scheduler's tick on the physical local APIC: Linux's LOCAL_TIMER_VECTOR (0xEC, arch/x86/include/asm/irq_vectors.h).</summary>
    public const int TickVector = 0xEC;

    private readonly bool[] _ticking; // per physical core: its scheduler tick is running
    private readonly ulong _tickMicroseconds;
    private readonly Counter _switches;
    private readonly Counter _preemptions;
    private readonly Counter? _migrations;
    private readonly Action<int> _tickle;
    private readonly int[][] _peers; // per core: the other cores in the order balancing looks at them

    /// <param name="tickle">Sends a physical core the interrupt that wakes it from the idle loop to schedule again.</param>
    /// <param name="tickMicroseconds">The period of the policy's scheduler tick.</param>
    protected VcpuScheduler(Machine machine, StatGroup stats, Action<int> tickle, ulong tickMicroseconds)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(tickle);
        Machine = machine;
        Placed = new List<SchedulingEntity>[machine.Cores.Count];
        for (int i = 0; i < Placed.Length; i++)
        {
            Placed[i] = [];
        }
        Running = new SchedulingEntity?[machine.Cores.Count];
        _ticking = new bool[machine.Cores.Count];
        _tickMicroseconds = tickMicroseconds;
        _switches = stats.Counter("vcpu_switches", "count", "times a physical core was handed from one virtual CPU to another");
        _preemptions = stats.Counter("vcpu_preemptions", "count", "switches that took the core from a runnable virtual CPU (slice over, a woken one preempting, or it yielded)");
        _tickle = tickle;
        Balancing = machine.Configuration.ThreadsPerCore == 1 && machine.Cores.Count > 1;
        _peers = [.. Enumerable.Range(0, Placed.Length).Select(OrderPeers)];
        _migrations = Balancing ? stats.Counter("vcpu_migrations", "count", "virtual CPUs a core pulled from another's queue (load balancing), each moved to that core") : null;
    }

    /// <summary>The scheduler of <paramref name="kind"/> for <paramref name="machine"/>.</summary>
    public static VcpuScheduler Create(HostScheduler kind, Machine machine, StatGroup stats, Action<int> tickle) => kind switch
    {
        HostScheduler.Credit => new CreditScheduler(machine, stats, tickle),
        HostScheduler.Cfs => new FairScheduler(machine, stats, tickle),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "The host schedulers are credit and cfs."),
    };

    protected Machine Machine { get; }

    /// <summary>Per physical core: the entities placed there, in the order they came.</summary>
    protected List<SchedulingEntity>[] Placed { get; }

    /// <summary>Per physical core: the entity it runs (or last ran, if that one blocked and the core idles for it).</summary>
    protected SchedulingEntity?[] Running { get; }

    /// <summary>Every entity of the host, in the order placed.</summary>
    protected List<SchedulingEntity> Entities { get; } = [];

    /// <summary>Whether virtual CPUs may migrate: a host of several cores, one hardware thread each.</summary>
    protected bool Balancing { get; }

    /// <summary>
    /// Places <paramref name="vcpu"/> on its physical core: the first there runs first; a second,
    /// or a capped one, starts the core's scheduler tick (periodic, on the physical local APIC),
    /// which a cap needs to notice the debt and the credit that parks and unparks it.
    /// </summary>
    public void Place(SchedulingEntity vcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        List<SchedulingEntity> placed = Placed[vcpu.Physical];
        placed.Add(vcpu);
        Entities.Add(vcpu);
        if (placed.Count == 1)
        {
            Running[vcpu.Physical] = vcpu;
        }
        Placing(vcpu);
        if (Balancing && vcpu is VirtualCpu)
        {
            vcpu.Migrations = Machine.Sim.Stats.Group(vcpu.Core.Path).Counter("vcpu_migrations", "count", "times this virtual CPU was moved to another physical core by the hypervisor's load balancing");
        }
        StartTickIfShared(vcpu.Physical);
    }

    /// <summary>Starts <paramref name="physical"/>'s scheduler tick once it has more than one entity, or a capped one.</summary>
    private void StartTickIfShared(int physical)
    {
        List<SchedulingEntity> placed = Placed[physical];
        if (!_ticking[physical] && (placed.Count >= 2 || placed.Exists(e => e.Cap > 0)))
        {
            _ticking[physical] = true;
            Machine.Devices.ApicOf(physical).StartPeriodicTimer(TickVector, (uint)(Machine.Configuration.Timings.ApicTimerHz * _tickMicroseconds / 1_000_000));
        }
    }

    /// <summary>Whether <paramref name="vcpu"/> is the one its physical core runs (or last ran).</summary>
    public bool IsRunning(SchedulingEntity vcpu) => Running[vcpu.Physical] == vcpu;

    /// <summary>The entity its physical core runs, or null when none is placed there.</summary>
    public SchedulingEntity? TryRunningOn(int physical) => Running[physical];

    /// <summary>The entity its physical core runs.</summary>
    public SchedulingEntity RunningOn(int physical) => Running[physical] ?? throw new InvalidOperationException($"Nothing is placed on core {physical}.");

    /// <summary>The entity that runs in <paramref name="context"/>.</summary>
    public SchedulingEntity EntityOf(Core context) => TryEntityOf(context) ?? throw new InvalidOperationException($"Nothing is scheduled in {context?.Path}.");

    /// <summary>The entity that runs in <paramref name="context"/>, or null when none is placed there.</summary>
    public SchedulingEntity? TryEntityOf(Core context)
    {
        foreach (List<SchedulingEntity> placed in Placed)
        {
            foreach (SchedulingEntity e in placed)
            {
                if (e.Core == context)
                {
                    return e;
                }
            }
        }
        return null;
    }

    /// <summary>The policy's own setting up of a newly placed entity.</summary>
    protected virtual void Placing(SchedulingEntity entity)
    {
    }

    /// <summary>
    /// The entity to hand the core to now that <paramref name="current"/> cannot run (blocked or
    /// powered off) or yields it, perhaps pulled from another core's queue; null if none.
    /// </summary>
    public abstract SchedulingEntity? Next(SchedulingEntity current);

    /// <summary>
    /// The entity that should take the core from <paramref name="current"/>, still runnable, at
    /// <paramref name="cycle"/> (checked before every VM entry and at the scheduler's tick); null
    /// to go on (or, parked by its cap, to leave the core idle).
    /// </summary>
    public abstract SchedulingEntity? Preempting(SchedulingEntity current, ulong cycle);

    /// <summary>
    /// <paramref name="entity"/>, blocked, is runnable again: sets <see cref="SchedulingEntity.Boosted"/>
    /// if it should preempt the one its core runs (<paramref name="running"/>: it is that one,
    /// its core idling for it), whose core is then kicked.
    /// </summary>
    public abstract void Woken(SchedulingEntity entity, bool running);

    /// <summary>The waiting entities of <paramref name="entity"/>'s core that putting it in the core's queue reads, in the order read (<see cref="HostCpuStructures"/>).</summary>
    public abstract IEnumerable<SchedulingEntity> InsertionWalk(SchedulingEntity entity);

    /// <summary>The entities waiting on <paramref name="physical"/>'s queue besides <paramref name="entity"/>: runnable, not parked, not the one running, in the order placed.</summary>
    protected IEnumerable<SchedulingEntity> Waiting(int physical, SchedulingEntity entity) =>
        Placed[physical].Where(e => e != entity && e != Running[physical] && e.State == VcpuState.Runnable && !e.Parked);

    /// <summary>The scheduler's tick has come to <paramref name="physical"/> (its local APIC's periodic timer, <see cref="TickVector"/>).</summary>
    public virtual void Ticked(int physical)
    {
    }

    /// <summary>Brings the policy's accounts of <paramref name="physical"/>'s running entity up to <paramref name="cycle"/> (and any period that has ended by then).</summary>
    protected abstract void Account(int physical, ulong cycle);

    /// <summary>
    /// The cycles <paramref name="physical"/>'s running entity has run since it was last charged,
    /// up to <paramref name="cycle"/>, now charged; 0 while its core idles for it blocked, or
    /// halts for it parked (the host's idle loop runs then, not it).
    /// </summary>
    protected ulong Charge(int physical, ulong cycle)
    {
        if (Running[physical] is not { State: VcpuState.Runnable } running || running.Core.Halted || running.Core.WaitsForCredit || cycle <= running.ChargedTo)
        {
            return 0;
        }
        ulong ran = cycle - running.ChargedTo;
        running.ChargedTo = cycle;
        return ran;
    }

    /// <summary>
    /// The runnable entity other than <paramref name="current"/>, not parked by a cap, that the
    /// policy ranks first on its core (<paramref name="beats"/>: whether one ranks above the best so
    /// far), the first in turn after <paramref name="current"/> among equals; null if none.
    /// </summary>
    protected SchedulingEntity? FirstInTurn(SchedulingEntity current, Func<SchedulingEntity, SchedulingEntity, bool> beats)
    {
        List<SchedulingEntity> placed = Placed[current.Physical];
        int at = placed.IndexOf(current);
        SchedulingEntity? best = null;
        for (int k = 1; k < placed.Count; k++)
        {
            SchedulingEntity e = placed[(at + k) % placed.Count];
            if (e.State == VcpuState.Runnable && !e.Parked && (best is null || beats(e, best)))
            {
                best = e;
            }
        }
        return best;
    }

    /// <summary>The cores other than <paramref name="physical"/>, those of its socket (NUMA node) first, each group from the next core up, as csched_load_balance visits its own node's peers before the others'.</summary>
    private int[] OrderPeers(int physical)
    {
        int socket = Machine.SocketOfCpu(physical);
        IEnumerable<int> others = Enumerable.Range(1, Placed.Length - 1).Select(k => (physical + k) % Placed.Length);
        return [.. others.Where(p => Machine.SocketOfCpu(p) == socket), .. others.Where(p => Machine.SocketOfCpu(p) != socket)];
    }

    /// <summary>The other cores of <paramref name="physical"/> in the order balancing looks at them: those of its socket (NUMA node) first, each group from the next core up.</summary>
    protected IReadOnlyList<int> PeersOf(int physical) => _peers[physical];

    /// <summary>Whether <paramref name="v"/> may be pulled by a core at <paramref name="cycle"/>: runnable, waiting off its core (its context parked by then), neither pinned, nor parked by a cap, nor chosen by its own core already.</summary>
    protected bool Migrateable(VirtualCpu v, ulong cycle) =>
        !v.Pinned && !v.Claimed && v.State == VcpuState.Runnable && !v.Parked && Running[v.Physical] != v && v.Core.IsDescheduled && v.Core.LocalCycle <= cycle;

    /// <summary>Migrates waiting <paramref name="vcpu"/> to <paramref name="physical"/>'s queue and caches; its old core's tick stops if it has nothing left to run.</summary>
    protected void Move(VirtualCpu vcpu, int physical)
    {
        int from = vcpu.Physical;
        Placed[from].Remove(vcpu);
        vcpu.Migrate(Machine, physical);
        Placed[physical].Add(vcpu);
        Moved(vcpu, from);
        _migrations!.Increment();
        vcpu.Migrations!.Increment();
        StartTickIfShared(physical);
        StopTickIfDone(from);
    }

    /// <summary>
    /// __runq_tickle's idler tickling, for <paramref name="waiting"/>, left runnable on its queue:
    /// the first core (its own socket's first, from the next core up) idling for a blocked or
    /// powered-off virtual CPU is sent the interrupt that makes it schedule again, and steal.
    /// </summary>
    private void TickleIdler(VirtualCpu waiting)
    {
        foreach (int peer in _peers[waiting.Physical])
        {
            if (Running[peer] is VirtualCpu { State: not VcpuState.Runnable })
            {
                _tickle(peer);
                return;
            }
        }
    }

    /// <summary>The policy's own adjustment of <paramref name="vcpu"/>, just moved from <paramref name="from"/> to the core it is on now.</summary>
    protected virtual void Moved(VirtualCpu vcpu, int from)
    {
    }

    /// <summary>
    /// Hands <paramref name="from"/>'s physical core to <paramref name="to"/> at the cycle
    /// <paramref name="from"/> has reached (the end of its switch path): the MMU loads
    /// <paramref name="to"/>'s translation state, the core's interrupts go to its context, and
    /// it runs from that cycle.
    /// </summary>
    public void Switch(SchedulingEntity from, SchedulingEntity to)
    {
        ulong cycle = from.Core.LocalCycle;
        Account(from.Physical, cycle);
        if (from.State == VcpuState.Runnable)
        {
            _preemptions.Increment();
            if (Balancing && from is VirtualCpu { Pinned: false } waiting)
            {
                TickleIdler(waiting);
            }
        }
        _switches.Increment();
        if (to is VirtualCpu vcpu)
        {
            to.Core.Mmu.SelectGuest(vcpu.Translation!); // a host process runs on the host's translations, where the core already is
        }
        Machine.Activate(to.Core);
        Running[to.Physical] = to;
        to.Boosted = false;
        to.Claimed = false;
        to.SliceStart = cycle;
        to.ChargedTo = cycle;
        to.Core.Reschedule(cycle);
    }

    /// <summary>Stops the tick of <paramref name="vcpu"/>'s core once none of its virtual CPUs has anything left to run, so that the simulation can end.</summary>
    public void PoweredOff(VirtualCpu vcpu) => StopTickIfDone(vcpu.Physical);

    /// <summary>Whether a core idling for a powered-off virtual CPU may yet find work: a virtual CPU somewhere that runs on and may migrate.</summary>
    public bool MayStealLater => Balancing && Array.Exists(Placed, placed => placed.Exists(e => e is VirtualCpu { Pinned: false } v && v.State != VcpuState.PoweredOff));

    private void StopTickIfDone(int physical)
    {
        if (_ticking[physical] && Placed[physical].TrueForAll(v => v is not VirtualCpu || v.State == VcpuState.PoweredOff))
        {
            _ticking[physical] = false;
            Machine.Devices.ApicOf(physical).Write(0x380, 0); // the timer's initial count to 0 stops it
        }
    }
}
