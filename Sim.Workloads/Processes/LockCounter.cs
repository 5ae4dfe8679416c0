using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// The lock-heavy microbenchmark: <see cref="ThreadedProcessWorkload.Threads"/> threads (the main one and those it
/// clones) each increment one shared counter <c>Size</c> times under one ticket spinlock in user
/// memory (pthread_spin_lock's kind: a locked XADD, then PAUSE and loads until served), with a
/// little work between increments. The counter and the lock share a cache line, as a small
/// struct would. What it shows: with more threads on more CPUs, each increment waits for the
/// others' and the line moves between cores, so increments per second stop growing and the time
/// of one grows. Figures: increments per second over all threads, and nanoseconds per increment.
/// </summary>
public sealed class LockCounter : ThreadedProcessWorkload
{
    /// <summary>The lock word and, beside it on its line, the counter.</summary>
    private const ulong Lock = ExecutableImage.DataBase, Counter = ExecutableImage.DataBase + 8;

    /// <summary>Work between increments: a short loop body outside the lock (assumed).</summary>
    private const int Outside = 50;

    public override string Name => "lock-counter";

    public override string Description => "threads incrementing one shared counter under a spinlock (size = increments per thread; process_threads = threads)";

    protected override ThreadedProcessWorkload New() => new LockCounter();

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long increments = context.Size;
        IEnumerable<Op> Increments()
        {
            for (long i = 0; i < increments; i++)
            {
                yield return Op.SpinLock(Lock);
                yield return Op.Load(Counter);
                yield return Op.Alu(1);
                yield return Op.Store(Counter);
                yield return Op.SpinUnlock(Lock);
                yield return Op.Alu(Outside);
            }
        }
        IEnumerable<Op> Main(ScriptProgram p)
        {
            foreach (Op op in StartThreads().Concat(Increments()).Concat(JoinThreads()))
            {
                yield return op;
            }
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(Main, () => new ScriptProgram(_ => Increments().Append(Call(SyscallNumber.Exit))));
    }

    public override IReadOnlyList<string> FigureNames => ["increments_per_second", "increment_ns"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        double total = (double)context.Size * Threads;
        return [new Metric("increments_per_second", outcome.PerSecond(total), "increments/s"), new Metric("increment_ns", outcome.MicrosecondsEach(total) * 1000, "ns per increment")];
    }
}
