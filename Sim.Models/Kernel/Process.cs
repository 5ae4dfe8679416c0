using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>A process of <see cref="LinuxKernel"/>: its address space, memory regions, program, family and state.</summary>
public sealed class Process
{
    internal Process(int pid, Process? parent, MemoryDescriptor mm, IProgram program, ProcessKernelMemory kernelMemory)
    {
        KernelMemory = kernelMemory;
        Pid = pid;
        Parent = parent;
        Mm = mm;
        Program = program;
    }

    public int Pid { get; }

    /// <summary>Timer ticks left of its time slice (Linux 2.6's O(1) scheduler: <see cref="LinuxKernel.SliceTicks"/> when refilled, halved with a child at fork, given back at the child's exit).</summary>
    internal int SliceTicks { get; set; } = LinuxKernel.SliceTicks;

    /// <summary>The container the process runs in (its parent's), or null outside containers.</summary>
    public Container? Container { get; internal init; }

    /// <summary>The process's kernel stack and task structures in physical memory.</summary>
    internal ProcessKernelMemory KernelMemory { get; }

    public Process? Parent { get; }

    /// <summary>The address space: its own, or one it shares with the other threads of its process; exec gives it a fresh one.</summary>
    public MemoryDescriptor Mm { get; internal set; }

    /// <summary>The process's page tables (its address space's).</summary>
    public AddressSpaceBuilder Space => Mm.Space;

    public IReadOnlyList<MemoryRegion> Regions => Mm.Regions;

    /// <summary>Where the next mmap goes (its address space's).</summary>
    internal ulong NextMapBase
    {
        get => Mm.NextMapBase;
        set => Mm.NextMapBase = value;
    }

    internal void AddRegion(MemoryRegion region) => Mm.AddRegion(region);

    internal void RemoveRegion(MemoryRegion region) => Mm.RemoveRegion(region);

    /// <summary>The program the process runs; exec replaces it.</summary>
    public IProgram Program { get; internal set; }

    /// <summary>The operation that faulted as the process went to sleep in the fault (for a page read from swap, or for memory), which it runs again first when it next runs.</summary>
    internal Cpu.Op? RetryOnResume { get; set; }

    /// <summary>What the CPU runs when the process is switched in: its program, which first runs again the operation it must retry, if any.</summary>
    internal IProgram ResumeStream()
    {
        if (Program is RetriedProgram { Spent: true } spent)
        {
            Program = spent.Program; // an earlier retry, done: at most one wrapper at a time
        }
        if (RetryOnResume is { } op)
        {
            RetryOnResume = null;
            Program = new RetriedProgram(op, Program);
        }
        return Program;
    }

    /// <summary>Open files by descriptor (null: closed); descriptors 0-2 are taken by the standard streams.</summary>
    internal List<OpenFile?> Files { get; } = [null, null, null];

    /// <summary>Signals with a handler installed (bit n-1 for signal n).</summary>
    internal ulong HandledSignals { get; set; }

    /// <summary>Signals sent and not yet delivered (bit n-1 for signal n).</summary>
    internal ulong PendingSignals { get; set; }

    /// <summary>While a signal handler runs: the program it interrupted, and where its signal frame is on the user stack.</summary>
    internal (IProgram Program, ulong Frame)? Interrupted { get; set; }

    /// <summary>When the process last sent a datagram that no receive has answered yet (for request-response latencies).</summary>
    internal Sim.Engine.Time.Tick? LastSend { get; set; }

    /// <summary>
    /// Measurements waiting for the process's next return to user mode (a request completes when
    /// the system call that waited for it returns): told the core's time at that SYSRET or IRET.
    /// </summary>
    internal Action<Sim.Engine.Time.Tick>? OnReturnToUser { get; set; }

    /// <summary>Kernel work of the process's that must run in its context, on the path that next switches to it (the copy of a read another CPU completed).</summary>
    internal Action<KernelPath>? OnSwitchIn { get; set; }

    /// <summary>Its asynchronous I/O context (io_setup's), or null.</summary>
    internal AioContext? Aio { get; set; }

    public ProcessState State { get; internal set; } = ProcessState.Ready;

    /// <summary>The CPUs sched_setaffinity allowed the process (bit n for CPU n; every CPU unless set), inherited at fork.</summary>
    internal ulong Affinity { get; set; } = ulong.MaxValue;

    /// <summary>The CPUs its cpuset allows (bit n for CPU n): its container's, or every CPU.</summary>
    internal ulong CpusetCpus => Container?.AllowedCpus ?? ulong.MaxValue;

    /// <summary>The CPUs the process may run on (cpus_allowed, bit n for CPU n): its affinity within its cpuset.</summary>
    internal ulong AllowedCpus => CpusetCpus & Affinity;

    /// <summary>Whether the process may run on CPU <paramref name="cpu"/>.</summary>
    internal bool MayRunOn(int cpu) => (AllowedCpus & (1UL << cpu)) != 0;

    /// <summary>The CPU the process last ran on (task_cpu): where a wake-up looks first.</summary>
    internal int LastCpu { get; set; }

    public int ExitCode { get; internal set; }

    internal List<Process> Children { get; } = [];

    /// <summary>A thread made with CLONE_THREAD: in its creator's thread group, not a child anyone waits for, released as it exits.</summary>
    internal bool InThreadGroup { get; init; }

    /// <summary>The user word the kernel clears and wakes futex waiters on when the thread exits (CLONE_CHILD_CLEARTID, set_tid_address), or null.</summary>
    internal ulong? ClearChildTid { get; init; }

    public MemoryRegion? RegionOf(ulong linearAddress) => Regions.FirstOrDefault(r => r.Contains(linearAddress));
}
