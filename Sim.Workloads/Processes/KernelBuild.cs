using Sim.Engine.Randomness;
using Sim.Models.Cpu;
using Sim.Models.Kernel;
using Sim.Workloads.Synthetic;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// A kernel build in miniature: `make` forks and waits for one compiler process per source file
/// (<c>Size</c> files); each child execs the compiler (1 MiB of text mapped from the page cache,
/// faulted in page by page), opens and reads its 16 KiB source, writes its 2 MiB heap as it grows
/// (each page faulting in), works (about 22 million instructions of <c>compute</c>'s SPECint-like
/// mix over 256 KiB of that heap, reading code and constants across its text), writes an 8 KiB
/// object file and exits. The
/// sources and the compiler are in the page cache from the start (a warm build); the sizes are
/// assumptions, the work per file a calibration (<see cref="CompileBlocks"/>). Figures of merit:
/// compilation units per second, and the share of system time.
/// </summary>
public sealed class KernelBuild : ProcessWorkload
{
    private const ulong HeapPages = 512;

    /// <summary>
    /// The compiler's work per file, in basic blocks of <c>compute</c>'s SPECint-like mix over a
    /// 256 KiB working set of its heap. A calibration: set so that the build spends 7% of its busy
    /// time outside user mode natively on the Pentium 4 profile, as [BA03] measured for a Linux
    /// build on a 2.4 GHz NetBurst Xeon (docs/validation.md); no compile time per file was in hand
    /// to set it from.
    /// </summary>
    private const int CompileBlocks = 2_400_000;

    /// <summary>Every this many blocks the compiler reads code or constants from a random page of its text (assumed), so that it faults all of it in.</summary>
    private const int TextReadInterval = 64;

    // The executables registered for each run, by the run's context: the workload object is
    // shared (the catalog holds one), runs are not.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<WorkloadContext, List<int>> _images = [];

    public override string Name => "kernel-build";

    public override string Description => "make running one compiler process per source file: fork, exec, read 16 KiB, compute, write 8 KiB, exit (size = files; jobs = make -j)";

    /// <summary>How many compilers make runs at once (make -j): it forks until this many run, then waits for one to end before the next.</summary>
    public int Jobs { get; private init; } = 1;

    /// <summary>The build with <paramref name="jobs"/> parallel jobs.</summary>
    public KernelBuild WithJobs(int jobs) => jobs == Jobs ? this
        : jobs is >= 1 and <= 1024 ? new KernelBuild { Jobs = jobs } : throw new ArgumentOutOfRangeException(nameof(jobs), jobs, "make -j takes 1 to 1024 jobs.");

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 64, dataPages: 16, stackPages: 8);

    public override void ConfigureKernel(LinuxKernel kernel, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(context);
        var images = new List<int>();
        _images.AddOrUpdate(context, images);
        int compiler = kernel.ImageFile("cc1", 1UL << 20);
        for (int unit = 0; unit < context.Size; unit++)
        {
            int source = kernel.ImageFile($"src{unit}.c", 16 * 1024);
            int output = kernel.Files.Create($"src{unit}.o", 0, capacityBytes: 8 * 1024);
            RandomStream random = context.Random.For($"workload.kernel-build.unit{unit}");
            images.Add(kernel.RegisterExecutable(new ExecutableImage(
                "cc1", compiler, DataPages: 16, HeapPages: HeapPages, StackPages: 16,
                () => Compiler(source, output, random))));
        }
    }

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_images.TryGetValue(context, out List<int>? images))
        {
            throw new InvalidOperationException("kernel-build runs under the Linux-like kernel: ConfigureKernel must prepare its files first.");
        }
        int jobs = Jobs;
        IEnumerable<Op> Make(ScriptProgram p)
        {
            int running = 0;
            for (int unit = 0; unit < images.Count; unit++)
            {
                yield return Call(SyscallNumber.Fork);
                if (++running == jobs)
                {
                    yield return Call(SyscallNumber.Wait4); // as many jobs as -j allows: wait for one to end
                    running--;
                }
                yield return Op.Alu(2_000); // make's own work between jobs
            }
            for (; running > 0; running--)
            {
                yield return Call(SyscallNumber.Wait4);
            }
            yield return Call(SyscallNumber.Exit);
        }
        int next = 0;
        return new ScriptProgram(Make, () =>
        {
            int image = images[next++];
            return new ScriptProgram(c => Exec(c, image));
        });
    }


    private static ScriptProgram Compiler(int source, int output, RandomStream random)
    {
        IEnumerable<Op> Body(ScriptProgram p)
        {
            p.PendingArgument = source;
            yield return Call(SyscallNumber.Open);
            long src = p.LastResult;
            for (int i = 0; i < 4; i++)
            {
                p.PendingArgument = src;
                yield return Call(SyscallNumber.Read);
            }
            for (ulong page = 0; page < HeapPages; page++)
            {
                yield return Op.Store(ExecutableImage.HeapBase + (page * 4096)); // the heap written as it grows: each page faults in
            }
            for (int block = 0; block < CompileBlocks; block++)
            {
                for (int step = 0; step < Compute.OpsPerBlock; step++)
                {
                    yield return Compute.MixOp(random, ExecutableImage.HeapBase, block, step);
                }
                if (block % TextReadInterval == 0)
                {
                    yield return Op.Load(ExecutableImage.TextBase + (random.NextBelow(256) * 4096)); // code and constants across the text
                }
            }
            p.PendingArgument = output;
            yield return Call(SyscallNumber.Open);
            long obj = p.LastResult;
            for (int i = 0; i < 2; i++)
            {
                p.PendingArgument = obj;
                yield return Call(SyscallNumber.Write);
            }
            p.PendingArgument = src;
            yield return Call(SyscallNumber.Close);
            p.PendingArgument = obj;
            yield return Call(SyscallNumber.Close);
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(Body);
    }

    public override IReadOnlyList<string> FigureNames => ["units", "system_time_share"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return [new Metric("units", outcome.PerSecond(context.Size), "compilation units/s"), new Metric("system_time_share", outcome.SystemTimeShare, "fraction")];
    }
}
