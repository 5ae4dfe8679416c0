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
    protected ScriptProgram ThreadedProgram(Func<ScriptProgram, int, IEnumerable<Op>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        int next = 0;
        IEnumerable<Op> Main(ScriptProgram p) => StartThreads(p).Concat(work(p, 0)).Concat(JoinThreads(p)).Append(Call(SyscallNumber.Exit));
        return new ScriptProgram(Main, () =>
        {
            int thread = ++next; // the threads are cloned in order
            return new ScriptProgram(p => work(p, thread).Append(Call(SyscallNumber.Exit)));
        });
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
