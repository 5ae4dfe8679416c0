using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// A process workload of <see cref="Threads"/> threads made as NPTL makes them: the main thread
/// clones the others into its thread group with the flags glibc's create_thread passes (the
/// address space shared, the thread's ID written to its descriptor and cleared with a futex
/// wake-up when it exits), and joins them at the end as pthread_join does (a load of the ID word,
/// and FUTEX_WAIT on it while the thread lives). A small image: the threads' work is on the first
/// data page and in registers; the thread descriptors' ID words follow it, a line each (each
/// descriptor is its own, at the top of its thread's stack).
/// </summary>
public abstract class ThreadedProcessWorkload : ProcessWorkload, IThreadedWorkload
{
    /// <summary>What glibc's create_thread passes that the kernel model acts on (nptl/createthread.c; CLONE_FS, CLONE_FILES, CLONE_SYSVSEM and CLONE_SETTLS it ignores).</summary>
    private const long ThreadFlags = LinuxKernel.CloneVm | LinuxKernel.CloneSighand | LinuxKernel.CloneThread | LinuxKernel.CloneParentSetTid | LinuxKernel.CloneChildClearTid;

    private const int PageBytes = 4096, LineBytes = 64;

    public int Threads { get; private set; } = 1;

    public IWorkload WithThreads(int threads)
    {
        if (threads == Threads)
        {
            return this;
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threads, 1024);
        ThreadedProcessWorkload other = New();
        other.Threads = threads;
        return other;
    }

    /// <summary>A fresh instance of the workload, with one thread.</summary>
    protected abstract ThreadedProcessWorkload New();

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) =>
        Image(textPages: 4, dataPages: DataPagesForThreads, stackPages: 4);

    /// <summary>The data pages the threads need: the first page, for the workload's own words, then the thread descriptors' ID words.</summary>
    protected ulong DataPagesForThreads => 1 + (ulong)(((Threads * LineBytes) + PageBytes - 1) / PageBytes);

    /// <summary>The ID word of thread <paramref name="thread"/>'s descriptor (the tid field of glibc's struct pthread).</summary>
    private static ulong TidWord(int thread) => ExecutableImage.DataBase + PageBytes + (ulong)(thread * LineBytes);

    /// <summary>
    /// The process's program: the main thread clones the others, does thread 0's
    /// <paramref name="work"/>, joins them and exits; thread k (the k-th clone) does its own
    /// <paramref name="work"/> and exits.
    /// </summary>
    /// <param name="forked">The program of a child any thread forks (after the threads are cloned), or null when none forks.</param>
    protected ScriptProgram ThreadedProgram(Func<ScriptProgram, int, IEnumerable<Op>> work, Func<ScriptProgram>? forked = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Team(_ => [], work, forked);
    }

    /// <summary>
    /// The process's program with a timed parallel section, as an OpenMP program times one (STREAM
    /// around each kernel): the main thread asks which CPUs it may use (sched_getaffinity, as
    /// libgomp does to size its team) and clones the others; every thread does its
    /// <paramref name="setup"/> (untimed: STREAM's parallel initialization, which places each
    /// thread's pages on its own node by first touch), meets the others at a <see cref="Barrier"/>,
    /// does its <paramref name="work"/>, and meets them again. The main thread reads the clock
    /// after each barrier; <see cref="TimedSection"/> in the context's state keeps both readings.
    /// Thread creation, joins and the process's exit are outside them.
    /// </summary>
    protected ScriptProgram TimedThreadedProgram(WorkloadContext context, Func<ScriptProgram, int, IEnumerable<Op>> setup, Func<ScriptProgram, int, IEnumerable<Op>> work)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(work);
        TimedSection section = context.State<TimedSection>();
        int spins = 0; // set by the main thread before it clones the others
        IEnumerable<Op> SizeTeam(ScriptProgram p)
        {
            p.PendingArgument = 0;
            yield return Call(SyscallNumber.SchedGetaffinity);
            spins = System.Numerics.BitOperations.PopCount((ulong)p.LastResult) >= Threads ? SpinCount : ThrottledSpinCount;
        }
        IEnumerable<Op> Section(ScriptProgram p, int thread)
        {
            foreach (Op op in setup(p, thread).Concat(Barrier(p, spins)))
            {
                yield return op;
            }
            if (thread == 0)
            {
                yield return Call(SyscallNumber.ClockGettime);
                section.Started = p.LastResult;
            }
            foreach (Op op in work(p, thread).Concat(Barrier(p, spins)))
            {
                yield return op;
            }
            if (thread == 0)
            {
                yield return Call(SyscallNumber.ClockGettime);
                section.Ended = p.LastResult;
            }
        }
        return Team(SizeTeam, Section);
    }

    /// <summary>
    /// The main thread does <paramref name="first"/>, clones the others, does thread 0's
    /// <paramref name="body"/>, joins them and exits; thread k (the k-th clone) does its own
    /// <paramref name="body"/> and exits.
    /// </summary>
    private ScriptProgram Team(Func<ScriptProgram, IEnumerable<Op>> first, Func<ScriptProgram, int, IEnumerable<Op>> body, Func<ScriptProgram>? forked = null)
    {
        int next = 0;
        IEnumerable<Op> Main(ScriptProgram p) => first(p).Concat(StartThreads(p)).Concat(body(p, 0)).Concat(JoinThreads(p)).Append(Call(SyscallNumber.Exit));
        return new ScriptProgram(Main, () =>
        {
            if (next == Threads - 1)
            {
                return (forked ?? throw new InvalidOperationException("This program's threads do not fork."))(); // every thread cloned: a fork's child
            }
            int thread = ++next; // the threads are cloned in order, before any fork
            return new ScriptProgram(p => body(p, thread).Append(Call(SyscallNumber.Exit)), forked);
        });
    }

    /// <summary>GOMP_SPINCOUNT's default: the spins a waiting thread makes before it sleeps (300,000 with OMP_WAIT_POLICY unset; libgomp's manual, "GOMP_SPINCOUNT").</summary>
    private const int SpinCount = 300_000;

    /// <summary>The spins when the team has more threads than the CPUs it may use (100, same source).</summary>
    private const int ThrottledSpinCount = 100;

    /// <summary>The team barrier's words, on the first data page and one line, as libgomp's gomp_barrier_t keeps them together: the threads arrived, and the generation.</summary>
    private const ulong Arrived = ExecutableImage.DataBase + 0x100, Generation = ExecutableImage.DataBase + 0x108;

    /// <summary>
    /// libgomp's team barrier (config/linux/bar.c, gomp_barrier_wait; wait.h, do_wait): a thread
    /// reads the generation, then counts itself in with LOCK XADD. The last to arrive resets the
    /// count, advances the generation and wakes every sleeper (FUTEX_WAKE of all); the others spin
    /// on the generation with PAUSE up to <paramref name="spins"/> times, then sleep on it with
    /// FUTEX_WAIT until it moves.
    /// </summary>
    private IEnumerable<Op> Barrier(ScriptProgram p, int spins)
    {
        ArgumentNullException.ThrowIfNull(p);
        yield return Op.LoadWord(Generation);
        uint generation = (uint)p.LastObserved;
        yield return Op.AtomicAdd(Arrived, 1);
        if ((int)p.LastObserved == Threads - 1)
        {
            yield return Op.StoreWord(Arrived, 0); // the count back to 0 for the next barrier, before anyone can pass this one
            yield return Op.StoreWord(Generation, generation + 1);
            foreach (Op op in FutexWake(p, Generation, int.MaxValue))
            {
                yield return op;
            }
            yield break;
        }
        for (int i = 0; i < spins; i++)
        {
            yield return Op.Execute(Instruction.Pause);
            yield return Op.LoadWord(Generation);
            if ((uint)p.LastObserved != generation)
            {
                yield break;
            }
        }
        while (true)
        {
            foreach (Op op in FutexWait(p, Generation, generation))
            {
                yield return op;
            }
            yield return Op.LoadWord(Generation);
            if ((uint)p.LastObserved != generation)
            {
                yield break;
            }
        }
    }

    /// <summary>When a <see cref="TimedThreadedProgram"/>'s main thread read the clock after its first and its second barrier, in ns of its CPU's clock.</summary>
    public sealed class TimedSection
    {
        public long Started { get; set; }

        public long Ended { get; set; }

        /// <summary>The section's length in seconds.</summary>
        public double Seconds => (Ended - Started) / 1e9;
    }

    /// <summary>The main thread's clone calls, one per other thread.</summary>
    protected IEnumerable<Op> StartThreads(ScriptProgram main)
    {
        for (int t = 1; t < Threads; t++)
        {
            main.PendingArgument = ThreadFlags;
            main.PendingCount = (long)TidWord(t);
            yield return Call(SyscallNumber.Clone);
        }
    }

    /// <summary>The main thread's joins, one per other thread: pthread_join's wait for the ID word to be cleared.</summary>
    protected IEnumerable<Op> JoinThreads(ScriptProgram main)
    {
        for (int t = 1; t < Threads; t++)
        {
            ulong word = TidWord(t);
            while (true)
            {
                yield return Op.LoadWord(word);
                if (main.LastObserved == 0)
                {
                    break;
                }
                foreach (Op op in FutexWait(main, word, (uint)main.LastObserved))
                {
                    yield return op;
                }
            }
        }
    }

    /// <summary>futex(FUTEX_WAIT | FUTEX_PRIVATE_FLAG) on <paramref name="word"/> while it holds <paramref name="value"/>.</summary>
    protected static IEnumerable<Op> FutexWait(ScriptProgram p, ulong word, uint value) => Futex(p, word, LinuxKernel.FutexWaitOp, value);

    /// <summary>futex(FUTEX_WAKE | FUTEX_PRIVATE_FLAG) of up to <paramref name="count"/> waiters on <paramref name="word"/>.</summary>
    protected static IEnumerable<Op> FutexWake(ScriptProgram p, ulong word, uint count) => Futex(p, word, LinuxKernel.FutexWakeOp, count);

    private static IEnumerable<Op> Futex(ScriptProgram p, ulong word, int operation, uint value)
    {
        p.PendingArgument = (long)word;
        p.PendingSecondArgument = operation | LinuxKernel.FutexPrivateFlag;
        p.PendingCount = value;
        yield return Call(SyscallNumber.Futex);
    }
}
