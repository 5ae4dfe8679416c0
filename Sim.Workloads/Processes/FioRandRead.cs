using Sim.Engine.Randomness;
using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// fio's random-read job at queue depth 1: <c>Size</c> reads of 4 KiB at random 4 KiB-aligned
/// offsets within a 1 GiB file, each a pread that blocks until the disk has delivered it.
/// Figures of merit: I/O operations per second and the mean latency. Through the ATA disk in
/// PIO mode, as the machine model has it, the transfer (257 port accesses per sector) dominates
/// on an SSD; a DMA interface would take it away.
/// </summary>
public sealed class FioRandRead : ProcessWorkload
{
    public const ulong FileBytes = 1UL << 30;

    public override string Name => "fio-randread";

    public override string Description => "4 KiB random reads at queue depth 1 from a 1 GiB region of the disk (size = reads)";

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 32, dataPages: 8, stackPages: 8);

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RandomStream random = context.Random.For("workload.fio-randread.thread0");
        long reads = context.Size;
        IEnumerable<Op> Body(ScriptProgram p)
        {
            for (long i = 0; i < reads; i++)
            {
                p.PendingArgument = (long)(random.NextBelow(FileBytes / 4096) * 4096);
                yield return Call(SyscallNumber.Pread64);
                yield return Op.Alu(50); // fio's bookkeeping between I/Os
            }
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(Body);
    }

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return
        [
            new Metric("iops", outcome.PerSecond(context.Size), "reads/s"),
            new Metric("mean_latency", outcome.MicrosecondsEach(context.Size), "us"),
        ];
    }
}
