using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// An idle system: one process sleeps for <c>Size</c> milliseconds while the kernel takes its
/// timer ticks. Figures of merit: the share of time the core is busy, and the busy cycles per
/// simulated second (the cost of an idle guest, which matters for density).
/// </summary>
public sealed class Idle : ProcessWorkload
{
    public override string Name => "idle";

    public override string Description => "a process sleeping while the kernel takes its 250 Hz timer ticks (size = milliseconds)";

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 8, dataPages: 0, stackPages: 4);

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long milliseconds = context.Size;
        IEnumerable<Op> Body(ScriptProgram p)
        {
            p.PendingArgument = milliseconds * 1_000_000;
            yield return Call(SyscallNumber.Nanosleep);
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(Body);
    }

    public override IReadOnlyList<string> FigureNames => ["busy", "busy_cycles_per_second"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ulong busy = outcome.CoreCycles - outcome.IdleCycles;
        return
        [
            new Metric("busy", 100.0 * busy / Math.Max(1, outcome.CoreCycles), "% of cycles"),
            new Metric("busy_cycles_per_second", outcome.PerSecond(busy), "cycles/s"),
        ];
    }
}
