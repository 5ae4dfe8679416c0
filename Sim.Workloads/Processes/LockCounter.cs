using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// The lock-heavy microbenchmarks: <see cref="ThreadedProcessWorkload.Threads"/> threads (the main
/// one and those it clones) each increment one shared counter <c>Size</c> times under one lock in
/// user memory, with a little work between increments. The counter and the lock share a cache
/// line, as a small struct would. Two locks:
/// <list type="bullet">
/// <item><c>lock-counter</c>: a pthread spinlock as glibc's generic pthread_spin_lock takes it
/// (nptl/pthread_spin_lock.c): an XCHG of 1 takes a free lock; a waiter spins on loads with
/// PAUSE (atomic_spin_nop) until it reads 0, then tries a CMPXCHG from 0 to 1; the unlock is a
/// plain store of 0. Waiters burn their CPUs, and a holder preempted by the scheduler's tick makes
/// them spin until their own slices end.</item>
/// <item><c>mutex-counter</c>: a default pthread mutex, glibc's futex lock (nptl/lowlevellock.c,
/// after Drepper's "Futexes Are Tricky"): a CMPXCHG from 0 to 1 takes a free lock; a contended
/// one is marked 2 with XCHG and waited for with FUTEX_WAIT; the unlock's XCHG to 0 finds 2 when
/// someone may sleep, and then wakes one with FUTEX_WAKE. Waiters sleep, so their CPUs are free,
/// and each hand-over through the kernel costs two system calls and a wake-up.</item>
/// </list>
/// What they show: with more threads on more CPUs, each increment waits for the others' and the
/// line moves between cores, so increments per second stop growing and the time of one grows.
/// Figures: increments per second over all threads, and nanoseconds per increment, over the
/// section the main thread times between two team barriers (thread creation and exit outside).
/// </summary>
public sealed class LockCounter : ThreadedProcessWorkload
{
    /// <summary>The lock word and, beside it on its line, the counter.</summary>
    private const ulong Lock = ExecutableImage.DataBase, Counter = ExecutableImage.DataBase + 8;

    /// <summary>Work between increments: a short loop body outside the lock (assumed).</summary>
    private const int Outside = 50;

    private readonly bool _mutex;

    /// <param name="mutex">A futex-based mutex instead of a spinlock.</param>
    public LockCounter(bool mutex = false) => _mutex = mutex;

    public override string Name => _mutex ? "mutex-counter" : "lock-counter";

    public override string Description =>
        $"threads incrementing one shared counter under a {(_mutex ? "futex-based pthread mutex" : "spinlock")} (size = increments per thread; process_threads = threads)";

    protected override ThreadedProcessWorkload New() => new LockCounter(_mutex);

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long increments = context.Size;
        IEnumerable<Op> Increments(ScriptProgram p)
        {
            for (long i = 0; i < increments; i++)
            {
                foreach (Op op in _mutex ? MutexLock(p) : SpinLock(p))
                {
                    yield return op;
                }
                yield return Op.Load(Counter);
                yield return Op.Alu(1);
                yield return Op.Store(Counter);
                foreach (Op op in _mutex ? MutexUnlock(p) : [Op.StoreWord(Lock, 0)]) // pthread_spin_unlock: atomic_store_release of 0
                {
                    yield return op;
                }
                yield return Op.Alu(Outside);
            }
        }
        return TimedThreadedProgram(context, (_, _) => [], (p, _) => Increments(p));
    }

    /// <summary>pthread_spin_lock: XCHG 1; while taken, PAUSE and load until it reads 0, then CMPXCHG 0 to 1.</summary>
    private static IEnumerable<Op> SpinLock(ScriptProgram p)
    {
        yield return Op.Exchange(Lock, 1);
        while (p.LastObserved != 0)
        {
            do
            {
                yield return Op.Execute(Instruction.Pause);
                yield return Op.LoadWord(Lock);
            }
            while (p.LastObserved != 0);
            yield return Op.CompareExchange(Lock, 0, 1);
        }
    }

    /// <summary>lll_lock: CMPXCHG 0 to 1; if taken, __lll_lock_wait (wait if it is 2; mark it 2 with XCHG until that finds it free).</summary>
    private static IEnumerable<Op> MutexLock(ScriptProgram p)
    {
        yield return Op.CompareExchange(Lock, 0, 1);
        if (p.LastObserved == 0)
        {
            yield break;
        }
        yield return Op.LoadWord(Lock); // atomic_load_relaxed: already marked contended?
        if (p.LastObserved == 2)
        {
            foreach (Op op in FutexWait(p, Lock, 2))
            {
                yield return op;
            }
        }
        while (true)
        {
            yield return Op.Exchange(Lock, 2);
            if (p.LastObserved == 0)
            {
                yield break;
            }
            foreach (Op op in FutexWait(p, Lock, 2))
            {
                yield return op;
            }
        }
    }

    /// <summary>lll_unlock: XCHG to 0; a 2 means someone may sleep, and one is woken.</summary>
    private static IEnumerable<Op> MutexUnlock(ScriptProgram p)
    {
        yield return Op.Exchange(Lock, 0);
        if (p.LastObserved > 1)
        {
            foreach (Op op in FutexWake(p, Lock, 1))
            {
                yield return op;
            }
        }
    }

    public override IReadOnlyList<string> FigureNames => ["increments_per_second", "increment_ns"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        double total = (double)context.Size * Threads, seconds = context.State<TimedSection>().Seconds;
        return [new Metric("increments_per_second", total / seconds, "increments/s"), new Metric("increment_ns", seconds / total * 1e9, "ns per increment")];
    }
}
