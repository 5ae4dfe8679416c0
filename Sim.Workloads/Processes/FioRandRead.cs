using Sim.Engine.Randomness;
using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// fio's random-read job: <c>Size</c> reads of 4 KiB at random 4 KiB-aligned offsets within a
/// 1 GiB region of the disk (direct I/O: the data lands in a kernel buffer, not the page cache),
/// by <see cref="Jobs"/> processes (fio's numjobs), each with its share of the reads and its own
/// random stream, through one of fio's engines:
/// <list type="bullet">
/// <item><see cref="FioEngine.Psync"/>: each read a pread that blocks until the disk has delivered
/// it, so a job has one read in flight and the queue depth is the number of jobs;</item>
/// <item><see cref="FioEngine.Libaio"/>: each job keeps <see cref="IoDepth"/> reads in flight, as
/// fio's libaio engine does with its defaults (iodepth_batch_submit=1, iodepth_batch_complete_min=1):
/// it submits reads one io_submit each until the queue is full, then reaps with io_getevents
/// (at least one event, at most the depth) and submits as many again.</item>
/// </list>
/// Figures of merit: I/O operations per second and the mean latency (by Little's law, queue
/// depth / IOPS).
/// </summary>
public sealed class FioRandRead : ProcessWorkload
{
    public const ulong FileBytes = 1UL << 30;

    /// <summary>The most jobs the model runs: one process each.</summary>
    public const int MostJobs = 256;

    /// <summary>The deepest queue a libaio job keeps (its context's ring holds as many events).</summary>
    public const int MostIoDepth = 1024;

    /// <param name="jobs">fio's numjobs: processes, each with its share of the reads.</param>
    /// <param name="engine">How each job reads: one pread at a time, or libaio's queue.</param>
    /// <param name="ioDepth">Reads each job keeps in flight: 1 under psync, 1 to <see cref="MostIoDepth"/> under libaio.</param>
    public FioRandRead(int jobs = 1, FioEngine engine = FioEngine.Psync, int ioDepth = 1)
    {
        Jobs = jobs is >= 1 and <= MostJobs ? jobs : throw new ArgumentOutOfRangeException(nameof(jobs), jobs, $"fio's jobs here are 1 to {MostJobs}.");
        Engine = Enum.IsDefined(engine) ? engine : throw new ArgumentOutOfRangeException(nameof(engine), engine, "fio's engine here is psync or libaio.");
        IoDepth = (engine, ioDepth) switch
        {
            (FioEngine.Psync, 1) => 1,
            (FioEngine.Psync, _) => throw new ArgumentOutOfRangeException(nameof(ioDepth), ioDepth, "fio's psync engine has one read in flight a job; a deeper queue needs the libaio engine."),
            (_, >= 1 and <= MostIoDepth) => ioDepth,
            _ => throw new ArgumentOutOfRangeException(nameof(ioDepth), ioDepth, $"fio's iodepth here is 1 to {MostIoDepth}."),
        };
    }

    public int Jobs { get; }

    public FioEngine Engine { get; }

    public int IoDepth { get; }

    /// <summary>Reads in flight when every job's queue is full.</summary>
    public int QueueDepth => Jobs * IoDepth;

    public override string Name => (Engine, QueueDepth) switch
    {
        (FioEngine.Psync, 1) => "fio-randread",
        (FioEngine.Psync, int depth) => $"fio-randread-qd{depth}",
        (_, int depth) => $"fio-randread-libaio-qd{depth}",
    };

    public override string Description => Engine == FioEngine.Psync
        ? $"4 KiB random reads at queue depth {QueueDepth} from a 1 GiB region of the disk (size = reads)"
        : $"4 KiB random reads through libaio at queue depth {QueueDepth} ({Jobs} job(s) of iodepth {IoDepth}) from a 1 GiB region of the disk (size = reads)";

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 32, dataPages: 8, stackPages: 8);

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long reads = context.Size;
        int jobs = Jobs;
        long Share(int job) => (reads / jobs) + (job < reads % jobs ? 1 : 0);
        IEnumerable<Op> Reads(ScriptProgram p, int job) => Engine == FioEngine.Psync ? SyncReads(p, job) : AsyncReads(p, job);
        IEnumerable<Op> SyncReads(ScriptProgram p, int job)
        {
            RandomStream random = RandomFor(context, job);
            for (long i = 0; i < Share(job); i++)
            {
                yield return Op.Alu(50); // fio's bookkeeping before each I/O
                p.PendingArgument = NextOffset(random);
                yield return Call(SyscallNumber.Pread64);
            }
        }
        IEnumerable<Op> AsyncReads(ScriptProgram p, int job)
        {
            RandomStream random = RandomFor(context, job);
            p.PendingArgument = IoDepth;
            yield return Call(SyscallNumber.IoSetup);
            Succeeded(p, "io_setup");
            long share = Share(job), submitted = 0, reaped = 0;
            while (reaped < share)
            {
                while (submitted - reaped < IoDepth && submitted < share)
                {
                    yield return Op.Alu(50); // fio's bookkeeping before each I/O, as under psync
                    p.PendingArgument = NextOffset(random);
                    yield return Call(SyscallNumber.IoSubmit);
                    Succeeded(p, "io_submit");
                    submitted++;
                }
                p.PendingArgument = 1; // iodepth_batch_complete_min
                p.PendingSecondArgument = IoDepth; // iodepth_batch_complete_max
                yield return Call(SyscallNumber.IoGetevents);
                reaped += Succeeded(p, "io_getevents");
            }
        }
        IEnumerable<Op> Parent(ScriptProgram p)
        {
            for (int job = 1; job < jobs; job++)
            {
                yield return Call(SyscallNumber.Fork);
            }
            foreach (Op op in Reads(p, 0))
            {
                yield return op;
            }
            for (int job = 1; job < jobs; job++)
            {
                yield return Call(SyscallNumber.Wait4);
            }
            yield return Call(SyscallNumber.Exit);
        }
        int nextJob = 1;
        return new ScriptProgram(Parent, () =>
        {
            int job = nextJob++;
            return new ScriptProgram(p => Reads(p, job).Append(Call(SyscallNumber.Exit)));
        });
    }

    private static RandomStream RandomFor(WorkloadContext context, int job) => context.Random.For($"workload.fio-randread.thread{job}");

    private static long NextOffset(RandomStream random) => (long)(random.NextBelow(FileBytes / 4096) * 4096);

    /// <summary>The last call's result, which must not be an error: the job's calls are all valid, so one would be the model's fault.</summary>
    private static long Succeeded(ScriptProgram p, string call) =>
        p.LastResult >= 0 ? p.LastResult : throw new InvalidOperationException($"fio's {call} failed with {p.LastResult}.");

    public override IReadOnlyList<string> FigureNames => ["iops", "mean_latency"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        double iops = outcome.PerSecond(context.Size);
        return
        [
            new Metric("iops", iops, "reads/s"),
            new Metric("mean_latency", QueueDepth / iops * 1e6, "us"),
        ];
    }
}
