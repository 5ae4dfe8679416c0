using Sim.Engine.Statistics;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// Xen's credit scheduler
/// (xen/common/sched_credit.c): each physical core has its queue of the entities placed on it,
/// which run in slices of 30 ms (CSCHED_DEFAULT_TSLICE_MS), checked on a scheduler tick every
/// 10 ms (CSCHED_TICKS_PER_TSLICE, 3 per slice). Every slice's length is an accounting period
/// (csched_acct): the host's credit for the period, a period's worth per physical core, is shared
/// out among the runnable entities of the whole host in proportion to their weights
/// (CSCHED_DEFAULT_WEIGHT 256), and an entity's running burns its credit. One with credit left is
/// UNDER, one in debt OVER (CSCHED_PRI_TS_UNDER, _OVER); a virtual CPU that wakes from blocking
/// is boosted (CSCHED_PRI_TS_BOOST) and preempts the one running. When a slice ends, or the
/// running entity blocks or powers off, the core goes to the runnable entity of the highest
/// priority, the next in turn among equals; a running entity whose slice is over keeps the core
/// only if every other is of a lower priority. A capped entity (xl sched-credit -c) earns at most
/// its cap's share of a period, and once its debt passes that much it is parked: it does not
/// run, though the core idle, until an accounting period brings its credit back to zero
/// (csched_acct's credit_cap and CSCHED_FLAG_VCPU_PARKED).
/// </summary>
/// <remarks>
/// Load balancing, after csched_load_balance and csched_runq_steal: a core about to run nothing,
/// or only an OVER entity, looks through the other cores' queues, those of its own socket (NUMA
/// node) first, and steals the waiting virtual CPU of the highest priority above that (not
/// running, not pinned, not parked), which then migrates: its context moves to this core's MMU
/// and caches (<see cref="VirtualCpu.Migrate"/>), so its translations and lines are refetched
/// there, and its switch path does a migration's extra steps. A virtual CPU preempted while
/// another core idles tickles that core (one idler, as __runq_tickle does), which wakes and steals it.
/// Model: credit is kept in cycles of the core (Xen's 10 credits a millisecond,
/// CSCHED_CREDITS_PER_MSEC, are the same measure), each entity its own domain (Xen's shares go
/// as weight times active virtual CPUs, the same per virtual CPU). Balancing happens when a core
/// would idle or run an OVER entity, at a block, a yield, a wake-up of the idle loop or a slice's
/// end; peers are scanned from the next core up (Xen rotates its starting peer, balance_bias). A
/// fruitless scan costs nothing. An entity's credit is clipped to one period's worth (Xen instead
/// stops an entity that saved more from earning, halving its credit). Accounting is done when
/// the scheduler next decides on any core, for every period that ended since, each running
/// entity charged to its own core's clock; its sum is the same. The tick runs only on a core
/// with more than one entity or a capped one: a core with one uncapped entity stays tickless,
/// and notices its slice's end at its next exit. On a host whose cores run two hardware threads
/// there is no migration (a hardware thread's own context is tied to its sibling in the model).
/// </remarks>
internal sealed class CreditScheduler : VcpuScheduler
{
    /// <summary>Xen credit's default time slice: 30 ms.</summary>
    public const ulong SliceMicroseconds = 30_000;

    /// <summary>Xen credit's tick: three per slice.</summary>
    public const ulong TickMicroseconds = SliceMicroseconds / 3;

    private readonly ulong _sliceCycles;
    private ulong _accountedTo; // the end of the last accounting period shared out
    private long _balance; // the credit the entities that earned held after the last period (csched_private's credit_balance)

    public CreditScheduler(Machine machine, StatGroup stats, Action<int> tickle)
        : base(machine, stats, tickle, TickMicroseconds)
    {
        _sliceCycles = machine.Profile.FrequencyHz * SliceMicroseconds / 1_000_000;
    }

    /// <summary>Xen credit's priority of the idle virtual CPU (CSCHED_PRI_IDLE): below every other.</summary>
    private const int IdlePriority = -64;

    /// <summary>Xen credit's OVER priority (CSCHED_PRI_TS_OVER): a core about to run one balances first.</summary>
    private const int OverPriority = -2;

    /// <summary>csched_vcpu_wake: a woken entity is boosted unless it is the one its core runs, or parked by its cap.</summary>
    public override void Woken(SchedulingEntity entity, bool running) => entity.Boosted = !running && !entity.Parked;

    /// <summary>
    /// The entity to hand the core to now that <paramref name="current"/> cannot run (blocked or
    /// powered off) or yields it: the runnable one of the highest priority (boosted, then UNDER,
    /// then OVER), the next in turn among equals; but if that, or <paramref name="current"/> going
    /// on, is OVER or there is none, one of a higher priority stolen from another core's queue
    /// when there is one (<see cref="Steal"/>); null if none.
    /// </summary>
    public override SchedulingEntity? Next(SchedulingEntity current)
    {
        ulong cycle = current.Core.LocalCycle;
        Account(current.Physical, cycle);
        SchedulingEntity? best = Best(current);
        int floor = Math.Max(best is null ? IdlePriority : Priority(best), current.State == VcpuState.Runnable && !current.Parked ? Priority(current) : IdlePriority);
        return floor <= OverPriority && Steal(current.Physical, floor, cycle) is { } stolen ? stolen : best;
    }

    /// <summary>
    /// csched_load_balance and csched_runq_steal: the waiting virtual CPU of the highest priority
    /// above <paramref name="floor"/> on another core's queue, those of
    /// <paramref name="physical"/>'s socket first, then the others', each from the next core up;
    /// moved to <paramref name="physical"/>. A candidate is runnable, off its core (its context
    /// parked by <paramref name="cycle"/>, the stealing core's time, so that it is waiting by
    /// then), neither pinned nor parked by its cap. Null if none.
    /// </summary>
    private VirtualCpu? Steal(int physical, int floor, ulong cycle)
    {
        if (!Balancing)
        {
            return null;
        }
        foreach (int peer in PeersOf(physical))
        {
            VirtualCpu? best = null;
            foreach (SchedulingEntity e in Placed[peer])
            {
                if (e is VirtualCpu v && Migrateable(v, cycle) && Priority(v) > floor && (best is null || Priority(v) > Priority(best)))
                {
                    best = v;
                }
            }
            if (best is not null)
            {
                Move(best, physical);
                return best;
            }
        }
        return null;
    }

    /// <summary>
    /// The entity that should take the core from <paramref name="current"/>, still runnable, at
    /// <paramref name="cycle"/>: a boosted one, or once its slice is over the best of the others
    /// unless it is of a lower priority, or a better one stolen from another core if neither is
    /// above OVER (csched_schedule's load balancing at a slice's end), or any other if its cap has
    /// parked it; null to go on (or, parked, to leave the core idle).
    /// </summary>
    public override SchedulingEntity? Preempting(SchedulingEntity current, ulong cycle)
    {
        bool sliceOver = cycle - current.SliceStart >= _sliceCycles;
        bool alone = Placed[current.Physical].Count < 2;
        if (alone && current.Cap == 0 && !(sliceOver && Balancing))
        {
            return null;
        }
        Account(current.Physical, cycle);
        SchedulingEntity? next = Best(current);
        if (sliceOver && !current.Parked && (next is null || !next.Boosted))
        {
            int floor = Math.Max(Priority(current), next is null ? IdlePriority : Priority(next));
            if (floor <= OverPriority && Steal(current.Physical, floor, cycle) is { } stolen)
            {
                return stolen;
            }
            if (alone)
            {
                current.SliceStart = cycle; // it runs on for a new slice, as csched_schedule picks it again
            }
        }
        if (next is null)
        {
            return null;
        }
        return current.Parked || next.Boosted || (sliceOver && Priority(next) >= Priority(current)) ? next : null;
    }

    /// <summary>The runnable entity other than <paramref name="current"/> and not parked of the highest priority on its core, the first in turn after it among equals.</summary>
    private SchedulingEntity? Best(SchedulingEntity current) => FirstInTurn(current, static (e, best) => Priority(e) > Priority(best));

    /// <summary>
    /// __runq_insert: the per-CPU runq is a list in priority order, and an entity goes after every
    /// one of its priority or higher, so the walk reads those, then the first of a lower priority
    /// where it stops (the list's order among equals taken as the order placed).
    /// </summary>
    public override IEnumerable<SchedulingEntity> InsertionWalk(SchedulingEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var waiting = Waiting(entity.Physical, entity).OrderByDescending(Priority).ToList();
        int ahead = waiting.Count(e => Priority(e) >= Priority(entity));
        return waiting.Take(Math.Min(ahead + 1, waiting.Count));
    }

    /// <summary>Xen credit's priorities: BOOST 0, UNDER -1, OVER -2.</summary>
    private static int Priority(SchedulingEntity e) => e.Boosted ? 0 : e.Credit >= 0 ? -1 : -2;

    /// <summary>
    /// Charges the entity running on <paramref name="physical"/> for its running up to
    /// <paramref name="cycle"/>, then shares out the credit of every accounting period that has
    /// ended by then (<see cref="ShareOut"/>).
    /// </summary>
    protected override void Account(int physical, ulong cycle)
    {
        if (Running[physical] is { } running)
        {
            running.Credit -= (long)Charge(physical, cycle);
        }
        while (cycle >= _accountedTo + _sliceCycles)
        {
            _accountedTo += _sliceCycles;
            ShareOut();
        }
    }

    /// <summary>
    /// csched_acct, for the whole host: every running entity charged to its core's clock, then
    /// the host's credit for a period (a slice's worth per physical core, and any overall debt
    /// the last period left, to bring it back) shared out among the entities that earn, in
    /// proportion to their weights (credit_fair), each earning at most a slice's worth (one
    /// virtual CPU runs on one core) or its cap's share (credit_peak), what one cannot use going
    /// to those after it in turn. Then a capped entity past its cap's debt is parked, and one
    /// back at zero unparked; credit is bounded to a slice's worth either way.
    /// </summary>
    private void ShareOut()
    {
        for (int p = 0; p < Running.Length; p++)
        {
            if (Running[p] is { } running)
            {
                running.Credit -= (long)Charge(p, running.Core.LocalCycle);
            }
        }
        long slice = (long)_sliceCycles;
        List<SchedulingEntity> earning = Entities.FindAll(Earning);
        long weightTotal = earning.Sum(e => (long)e.Weight);
        if (weightTotal == 0)
        {
            _balance = 0;
            return;
        }
        long debt = Math.Max(-_balance, 0);
        long total = (slice * Running.Length) + debt;
        long weightLeft = weightTotal, balance = 0;
        foreach (SchedulingEntity e in earning)
        {
            weightLeft -= e.Weight;
            long peak = slice + (((debt * e.Weight) + weightTotal - 1) / weightTotal);
            if (e.Cap > 0)
            {
                peak = Math.Min(peak, CapCredit(e));
            }
            long fair = ((total * e.Weight) + weightTotal - 1) / weightTotal;
            if (fair >= peak)
            {
                if (weightLeft != 0)
                {
                    total += (((fair - peak) * weightTotal) + weightLeft - 1) / weightLeft; // the rest to those after it
                }
                fair = peak;
            }
            e.Credit = Math.Min(e.Credit + fair, slice);
            if (e.Cap > 0)
            {
                e.Parked = e.Credit < -CapCredit(e) || (e.Parked && e.Credit < 0);
            }
            e.Credit = Math.Max(e.Credit, -slice); // csched_acct's lower bound on credits
            balance += e.Credit;
        }
        _balance = balance;
    }

    /// <summary>Whether <paramref name="e"/> earns credit this period: it can run (or could but for its cap), and has not saved a whole period's worth (csched_acct stops one that has from earning, so the others earn the period between them).</summary>
    private bool Earning(SchedulingEntity e) => (e.State == VcpuState.Runnable || e.Parked) && e.Credit < (long)_sliceCycles;

    /// <summary>A capped entity's credit for a period: its cap's share of a slice, rounded up (csched_acct's credit_cap).</summary>
    private long CapCredit(SchedulingEntity e) => (((long)_sliceCycles * e.Cap) + 99) / 100;
}
