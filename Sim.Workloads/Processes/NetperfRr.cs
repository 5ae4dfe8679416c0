using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// netperf's request/response test (UDP_RR): <c>Size</c> transactions of a 1-byte request sent to
/// the peer and a 1-byte response awaited, one at a time. Figures of merit: transactions per
/// second and the mean round trip. The peer answers after the platform's turnaround time.
/// </summary>
public sealed class NetperfRr : ProcessWorkload
{
    private const int RequestBytes = 1;

    public override string Name => "netperf-rr";

    public override string Description => "UDP request/response with the peer, 1-byte messages, one transaction at a time (size = transactions)";

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 32, dataPages: 8, stackPages: 8);

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long transactions = context.Size;
        IEnumerable<Op> Body(ScriptProgram p)
        {
            for (long i = 0; i < transactions; i++)
            {
                p.PendingArgument = RequestBytes;
                yield return Call(SyscallNumber.Sendto);
                yield return Call(SyscallNumber.Recvfrom);
                yield return Op.Alu(50); // netperf's bookkeeping per transaction
            }
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(Body);
    }

    public override IReadOnlyList<string> FigureNames => ["transactions", "round_trip"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return
        [
            new Metric("transactions", outcome.PerSecond(context.Size), "transactions/s"),
            new Metric("round_trip", outcome.MicrosecondsEach(context.Size), "us"),
        ];
    }
}
