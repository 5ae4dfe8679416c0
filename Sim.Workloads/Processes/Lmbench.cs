using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// Latency tests in the manner of lmbench (McVoy and Staelin, USENIX 1996), run as processes
/// under the Linux-like kernel; each reports microseconds per operation as lmbench times it, the
/// median of repetitions after a warm-up (<see cref="RepetitionPlan"/>: <c>latency</c>), and the
/// first operation on its own (<c>cold_latency</c>: its code not yet translated, its shadow
/// entries not yet made, its caches cold). <c>Size</c> is the operations run in all. What exists
/// of the kernel decides which tests exist: null call
/// (getpid), fork+exit (with wait), context switch between two processes with a 0 or 16 KiB
/// working set each (sched_yield ping-pong; lmbench's lat_ctx uses pipes and subtracts the
/// working-set time, this test does neither), page fault (first touch of anonymous memory;
/// lmbench faults on a mapped file), mmap (map 1 MiB anonymous, touch one page, unmap),
/// open/close of a cached file, fork+exec of a small program, and null I/O (a one-byte read of
/// /dev/zero and a one-byte write to /dev/null, per call), and signal handler installation and
/// overhead (lat_sig install and catch), stat of a three-component path, and a cold read of a
/// file through the page cache.
/// </summary>
public sealed class Lmbench : ProcessWorkload
{
    private readonly Func<LmbenchHarness, IProgram>? _program;
    private readonly Func<LinuxKernel, LmbenchHarness, IProgram>? _kernelProgram;
    private readonly int _operationsPerUnit;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<WorkloadContext, IProgram> _prepared = [];

    private Lmbench(string name, string description, Func<LmbenchHarness, IProgram> program, int operationsPerUnit = 1)
    {
        Name = name;
        Description = description;
        _program = program;
        _operationsPerUnit = operationsPerUnit;
    }

    /// <summary>A test that needs files or executables in the kernel before it starts.</summary>
    private Lmbench(string name, string description, Func<LinuxKernel, LmbenchHarness, IProgram> kernelProgram, int operationsPerUnit = 1)
    {
        Name = name;
        Description = description;
        _kernelProgram = kernelProgram;
        _operationsPerUnit = operationsPerUnit;
    }

    public override string Name { get; }

    public override string Description { get; }

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 32, dataPages: 8, stackPages: 8);

    public static IReadOnlyList<Lmbench> All { get; } =
    [
        new("lat-null", "null system call (getpid), per call (size = calls)", h => new ScriptProgram(p => h.RunThenExit(p, _ => [Call(SyscallNumber.Getpid)]))),
        new("lat-fork", "fork + exit + wait, per fork (size = forks)", h => new ScriptProgram(
            p => h.RunThenExit(p, _ => [Call(SyscallNumber.Fork), Call(SyscallNumber.Wait4)]),
            () => new ScriptProgram(_ => [Call(SyscallNumber.Exit)]))),
        new("lat-ctx-0k", "context switch between two processes yielding to each other, no working set (size = switches per process)", (Func<LinuxKernel, LmbenchHarness, IProgram>)((kernel, h) => PingPong(kernel, h, 0)), 2),
        new("lat-ctx-16k", "context switch between two processes each touching 16 KiB between switches (size = switches per process)", (Func<LinuxKernel, LmbenchHarness, IProgram>)((kernel, h) => PingPong(kernel, h, 16 * 1024)), 2),
        new("lat-pagefault", "first touch of a fresh anonymous page (a demand-zero fault), per fault (size = pages)", h => new ScriptProgram(p => Faults(p, h))),
        new("lat-mmap", "mmap 1 MiB anonymous, touch one page, munmap, per round (size = rounds)", h => new ScriptProgram(p => h.RunThenExit(p, _ => MapOnce(p)))),
        new("lat-nullio", "null I/O: read 1 byte from /dev/zero and write 1 byte to /dev/null, per call (size = pairs)", (Func<LinuxKernel, LmbenchHarness, IProgram>)NullIo, 2),
        new("lat-stat", "stat of /usr/include/stdio.h (a three-component path walk in a warm dentry cache), per call (size = calls)", (Func<LinuxKernel, LmbenchHarness, IProgram>)StatFile),
        new("lat-sig-install", "signal handler installation (rt_sigaction of SIGUSR1), per call (size = calls)", h => new ScriptProgram(p => InstallHandlers(p, h))),
        new("lat-sig-catch", "signal handler overhead: kill(getpid(), SIGUSR1) caught by a handler that returns, per signal (size = signals)", SignalCatch),
        new("lat-openclose", "open and close a file, per pair (size = pairs)", (Func<LinuxKernel, LmbenchHarness, IProgram>)OpenClose),
        new("lat-fork-exec", "fork, exec of a small program that exits at once, wait, per round (size = rounds)", (Func<LinuxKernel, LmbenchHarness, IProgram>)ForkExec),
        new("lat-file-read", "a cold sequential read of a file, 4 KiB per read, each page from the disk into the page cache (the first pass of bw_file_rd's loop), per page (size = pages)", (Func<LinuxKernel, LmbenchHarness, IProgram>)ReadFile),
    ];

    public override void ConfigureKernel(LinuxKernel kernel, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_kernelProgram is not null)
        {
            _prepared.AddOrUpdate(context, _kernelProgram(kernel, Harness(context)));
        }
    }

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_program is not null)
        {
            return _program(Harness(context));
        }
        return _prepared.TryGetValue(context, out IProgram? program)
            ? program
            : throw new InvalidOperationException($"{Name} runs under the Linux-like kernel: ConfigureKernel must prepare it first.");
    }

    public override IReadOnlyList<string> FigureNames => ["latency", "cold_latency"];

    /// <summary>The median repetition's time per operation and the first operation's; NaN where the run ended before the clock read them.</summary>
    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        LmbenchReadings readings = context.State<LmbenchReadings>();
        return
        [
            new Metric("latency", readings.MedianMicroseconds(RepetitionPlan.For(context.Size), _operationsPerUnit), "us per operation"),
            new Metric("cold_latency", readings.ColdMicroseconds(_operationsPerUnit), "us per operation"),
        ];
    }

    private static LmbenchHarness Harness(WorkloadContext context) => new(RepetitionPlan.For(context.Size), context.State<LmbenchReadings>());

    /// <summary>
    /// Two processes that yield to each other. On a kernel of several CPUs they are pinned to the
    /// first (sched_setaffinity before the fork, which the child inherits), as one runs lat_ctx
    /// under <c>taskset -c 0</c> to measure a switch: otherwise each would sit alone on a CPU and
    /// its sched_yield would return at once.
    /// </summary>
    private static ScriptProgram PingPong(LinuxKernel kernel, LmbenchHarness h, int workingSetBytes)
    {
        bool pin = kernel.Cpus.Count > 1;
        IEnumerable<Op> Switch(bool parent)
        {
            for (int offset = 0; offset < workingSetBytes; offset += 64)
            {
                yield return Op.Load(ExecutableImage.DataBase + (ulong)offset + (parent ? 0UL : 16 * 1024));
            }
            yield return Call(SyscallNumber.SchedYield);
        }
        IEnumerable<Op> Side(ScriptProgram p, bool parent)
        {
            if (parent && pin)
            {
                p.PendingArgument = 0; // this process
                p.PendingSecondArgument = 1; // CPU 0
                yield return Call(SyscallNumber.SchedSetaffinity);
            }
            if (parent)
            {
                yield return Call(SyscallNumber.Fork);
            }
            // The parent times the switches; the child yields as often, untimed.
            IEnumerable<Op> switches = parent ? h.Run(p, _ => Switch(parent: true)) : Untimed(h.Operations, () => Switch(parent: false));
            foreach (Op op in switches)
            {
                yield return op;
            }
            if (parent)
            {
                yield return Call(SyscallNumber.Wait4);
            }
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(p => Side(p, parent: true), () => new ScriptProgram(p => Side(p, parent: false)));
    }

    private static IEnumerable<Op> Untimed(long count, Func<IEnumerable<Op>> body)
    {
        for (long i = 0; i < count; i++)
        {
            foreach (Op op in body())
            {
                yield return op;
            }
        }
    }

    private static IEnumerable<Op> Faults(ScriptProgram p, LmbenchHarness h)
    {
        p.PendingArgument = h.Operations;
        yield return Call(SyscallNumber.Mmap);
        ulong start = (ulong)p.LastResult;
        foreach (Op op in h.RunThenExit(p, i => [Op.Store(start + ((ulong)i * 4096))]))
        {
            yield return op;
        }
    }

    /// <summary>lmbench's lat_syscall read and write: one byte from /dev/zero, one byte to /dev/null.</summary>
    private static ScriptProgram NullIo(LinuxKernel kernel, LmbenchHarness h)
    {
        int zero = kernel.Files.CreateDevice("/dev/zero", CharacterDevice.Zero);
        int sink = kernel.Files.CreateDevice("/dev/null", CharacterDevice.Null);
        IEnumerable<Op> Body(ScriptProgram p)
        {
            p.PendingArgument = zero;
            yield return Call(SyscallNumber.Open);
            long zeroFd = p.LastResult;
            p.PendingArgument = sink;
            yield return Call(SyscallNumber.Open);
            long sinkFd = p.LastResult;
            IEnumerable<Op> Pair()
            {
                p.PendingCount = 1;
                p.PendingArgument = zeroFd;
                yield return Call(SyscallNumber.Read);
                p.PendingCount = 1;
                p.PendingArgument = sinkFd;
                yield return Call(SyscallNumber.Write);
            }
            foreach (Op op in h.RunThenExit(p, _ => Pair()))
            {
                yield return op;
            }
        }
        return new ScriptProgram(Body);
    }

    private static ScriptProgram StatFile(LinuxKernel kernel, LmbenchHarness h)
    {
        int file = kernel.Files.Create("/usr/include/stdio.h", 31 * 1024);
        return new ScriptProgram(p => h.RunThenExit(p, _ => ArgumentThen(p, file, SyscallNumber.Stat)));
    }

    /// <summary>A system call on <paramref name="argument"/>, set afresh each time (a clock reading between calls sets its own).</summary>
    private static IEnumerable<Op> ArgumentThen(ScriptProgram p, long argument, SyscallNumber call)
    {
        p.PendingArgument = argument;
        yield return Call(call);
    }

    private const int Sigusr1 = 10;

    private static IEnumerable<Op> InstallHandlers(ScriptProgram p, LmbenchHarness h) => h.RunThenExit(p, _ => ArgumentThen(p, Sigusr1, SyscallNumber.RtSigaction));

    /// <summary>lmbench's lat_sig catch: the handler only counts the signal.</summary>
    private static ScriptProgram SignalCatch(LmbenchHarness h)
    {
        IEnumerable<Op> Body(ScriptProgram p)
        {
            p.PendingArgument = Sigusr1;
            yield return Call(SyscallNumber.RtSigaction);
            foreach (Op op in h.RunThenExit(p, _ => ArgumentThen(p, Sigusr1, SyscallNumber.Kill)))
            {
                yield return op;
            }
        }
        return new ScriptProgram(Body) { Handlers = _ => new ScriptProgram(_ => [Op.Alu(3)]) };
    }

    private static ScriptProgram OpenClose(LinuxKernel kernel, LmbenchHarness h)
    {
        int file = kernel.ImageFile("lat-openclose.dat", 4096);
        IEnumerable<Op> Pair(ScriptProgram p)
        {
            p.PendingArgument = file;
            yield return Call(SyscallNumber.Open);
            p.PendingArgument = p.LastResult;
            yield return Call(SyscallNumber.Close);
        }
        return new ScriptProgram(p => h.RunThenExit(p, _ => Pair(p)));
    }

    /// <summary>bw_file_rd's read loop over a file not yet cached: open, then read after read to its end, each missing the page cache.</summary>
    private static ScriptProgram ReadFile(LinuxKernel kernel, LmbenchHarness h)
    {
        int file = kernel.Files.Create("file-read.dat", (ulong)h.Operations * 4096);
        IEnumerable<Op> Body(ScriptProgram p)
        {
            p.PendingArgument = file;
            yield return Call(SyscallNumber.Open);
            long fd = p.LastResult;
            foreach (Op op in h.RunThenExit(p, _ => ArgumentThen(p, fd, SyscallNumber.Read)))
            {
                yield return op;
            }
        }
        return new ScriptProgram(Body);
    }

    private static ScriptProgram ForkExec(LinuxKernel kernel, LmbenchHarness h)
    {
        int text = kernel.ImageFile("hello", 16 * 4096);
        int hello = kernel.RegisterExecutable(new ExecutableImage("hello", text, DataPages: 4, HeapPages: 4, StackPages: 4,
            () => new ScriptProgram(_ => [Op.Load(ExecutableImage.TextBase), Op.Store(ExecutableImage.StackBase), Call(SyscallNumber.Exit)])));
        IEnumerable<Op> Stub(ScriptProgram p)
        {
            p.PendingArgument = hello;
            yield return Call(SyscallNumber.Execve);
        }
        return new ScriptProgram(
            p => h.RunThenExit(p, _ => [Call(SyscallNumber.Fork), Call(SyscallNumber.Wait4)]),
            () => new ScriptProgram(Stub));
    }

    private static IEnumerable<Op> MapOnce(ScriptProgram p)
    {
        p.PendingArgument = 256;
        yield return Call(SyscallNumber.Mmap);
        ulong start = (ulong)p.LastResult;
        yield return Op.Store(start);
        p.PendingArgument = (long)start;
        yield return Call(SyscallNumber.Munmap);
    }
}
