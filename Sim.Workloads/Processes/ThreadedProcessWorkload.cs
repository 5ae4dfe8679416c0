using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// A process workload of <see cref="Threads"/> threads: the main one clones the others (sharing
/// its address space) and waits for them at the end. A small image: the threads' work is on the
/// data page and in registers.
/// </summary>
public abstract class ThreadedProcessWorkload : ProcessWorkload, IThreadedWorkload
{
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

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 4, dataPages: 1, stackPages: 4);

    /// <summary>The main thread's clone calls, one per other thread.</summary>
    protected IEnumerable<Op> StartThreads() => Enumerable.Repeat(Call(SyscallNumber.Clone), Threads - 1);

    /// <summary>The main thread's wait4 calls, one per other thread.</summary>
    protected IEnumerable<Op> JoinThreads() => Enumerable.Repeat(Call(SyscallNumber.Wait4), Threads - 1);
}
