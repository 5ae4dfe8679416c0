using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// A synthetic kernel (stream, gups, compute) as a process of the Linux-like kernel, as the
/// benchmark runs on Linux: its data block a populated region of the process's image (touched
/// before the timed part, as the benchmarks initialise their arrays first), then the kernel's
/// operations in user mode between two clock_gettime calls, then exit. The timer ticks, the
/// scheduler and (under oslevel) the container's cgroups are then around it, which the bare
/// stream on the minimal kernel does not have; it is what containers can run, and what their
/// native baseline must be. Figures of merit: the kernel's own, over the time between the two
/// clock readings, as STREAM and RandomAccess time themselves (not the process's start and exit:
/// freeing 64 MiB at exit is not part of what they report).
/// </summary>
public sealed class LinuxProcess(IDataWorkload synthetic) : ProcessWorkload
{
    public override string Name => synthetic.Name + "-linux";

    /// <summary>The synthetic kernel the process runs.</summary>
    public IDataWorkload Data => synthetic;

    public override string Description => synthetic.Description.Replace(" (size", ", as a process of the Linux-like kernel (size", StringComparison.Ordinal);

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The text and stack of a small benchmark binary (assumed sizes; its loop touches neither beyond a few lines), then the data block.
        return Image(textPages: 16, dataPages: 0, stackPages: 8, new MemoryRegion("data", WorkloadContext.DataBase, synthetic.DataBytes(context.Size) / 4096, Writable: true));
    }

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        IEnumerable<Op> Body(ScriptProgram p)
        {
            yield return Call(SyscallNumber.ClockGettime);
            long start = p.LastResult;
            IOpStream ops = synthetic.CreateStream(context);
            while (ops.TryNext(out Op op))
            {
                yield return op;
            }
            yield return Call(SyscallNumber.ClockGettime);
            context.State<TimedRegion>().Nanoseconds = p.LastResult - start;
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(Body);
    }

    public override IReadOnlyList<string> FigureNames => synthetic.FigureNames;

    /// <summary>The kernel's figures of merit over its timed region; NaN if the run ended before the region did.</summary>
    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        long ns = context.State<TimedRegion>().Nanoseconds;
        return synthetic.FiguresOfMerit(context, outcome with { SimulatedSeconds = ns > 0 ? ns / 1e9 : double.NaN });
    }

    /// <summary>The nanoseconds between the program's two clock readings.</summary>
    public sealed class TimedRegion
    {
        public long Nanoseconds { get; set; }
    }
}
