using Sim.Engine.Randomness;
using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// fio's random-read job: <c>Size</c> reads of 4 KiB at random 4 KiB-aligned offsets within a
/// 1 GiB region of the disk, each a pread that blocks until the disk has delivered it (direct
/// I/O: the data lands in a kernel buffer, not the page cache). The queue depth is the number of
/// jobs (processes, as fio's numjobs with the sync engine), each with its share of the reads and
/// its own random stream, so up to that many requests are in flight at the disk. Figures of
/// merit: I/O operations per second and the mean latency (by Little's law, queue depth / IOPS).
/// </summary>
public sealed class FioRandRead(int queueDepth = 1) : ProcessWorkload
{
    public const ulong FileBytes = 1UL << 30;

    /// <summary>The most jobs (and so the deepest queue) the model runs: one process each.</summary>
    public const int MostJobs = 256;

    public int QueueDepth { get; } = queueDepth is >= 1 and <= MostJobs
        ? queueDepth
        : throw new ArgumentOutOfRangeException(nameof(queueDepth), queueDepth, $"fio's queue depth here is 1 to {MostJobs} jobs.");

    public override string Name => QueueDepth == 1 ? "fio-randread" : $"fio-randread-qd{QueueDepth}";

    public override string Description => $"4 KiB random reads at queue depth {QueueDepth} from a 1 GiB region of the disk (size = reads)";

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 32, dataPages: 8, stackPages: 8);

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long reads = context.Size;
        int jobs = QueueDepth;
        long Share(int job) => (reads / jobs) + (job < reads % jobs ? 1 : 0);
        IEnumerable<Op> Reads(ScriptProgram p, int job)
        {
            RandomStream random = context.Random.For($"workload.fio-randread.thread{job}");
            for (long i = 0; i < Share(job); i++)
            {
                yield return Op.Alu(50); // fio's bookkeeping before each I/O
                p.PendingArgument = (long)(random.NextBelow(FileBytes / 4096) * 4096);
                yield return Call(SyscallNumber.Pread64);
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
