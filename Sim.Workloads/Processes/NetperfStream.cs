using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Kernel;
using Sim.Models.Platform;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// netperf's bulk-transfer test, TCP_STREAM-like over the model's datagram stack: <c>Size</c>
/// full frames (1,472 bytes of payload each) sent to a sink on the network's peer, with TCP's
/// flow control in the workload: at most a window of frames unacknowledged, and the peer
/// acknowledging every second frame (and the last one) with a cumulative acknowledgement, a
/// minimum-size frame sent after its turnaround. The sender waits in recvfrom for an
/// acknowledgement whenever its window is full. Figures of merit: the goodput in Mb/s (payload
/// bits over the run's time) and the frames a second.
/// </summary>
/// <remarks>
/// Model: no TCP state machine (no slow start, no congestion window, no retransmission: the
/// model's links and peer lose nothing), no segmentation offload (every frame is a sendto and a
/// descriptor), and the window is fixed at <see cref="WindowFrames"/>: 64 KiB, the receive window
/// a TCP peer offers without window scaling (RFC 7323; Linux grows it by autotuning, which is
/// left out). One acknowledgement for every second full-sized segment is RFC 5681's (section 4.2)
/// delayed acknowledgement.
/// </remarks>
public sealed class NetperfStream : ProcessWorkload
{
    public const int FramePayload = 1472; // a full Ethernet frame of UDP payload, as Web's answers
    public const int WindowFrames = 65_535 / FramePayload; // 44 frames in flight at most
    private const int AcknowledgementBytes = 60; // Ethernet's minimum frame without its FCS (IEEE 802.3)

    public override string Name => "netperf-stream";

    public override string Description => "bulk transfer to the peer: full frames under a 64 KiB window, acknowledged every second frame (size = frames)";

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 32, dataPages: 8, stackPages: 8);

    /// <summary>The sink on the peer: counts the frames from the workload's port and acknowledges every second one, and the last.</summary>
    public override void ConfigurePlatform(IPlatform platform, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(context);
        NetworkPeer peer = platform.Devices.Peer ?? throw new InvalidOperationException("The netperf-stream workload needs a NIC.");
        ushort port = context.Port;
        long size = context.Size;
        uint received = 0;
        peer.Serve(port, _ =>
        {
            received++;
            if (received % 2 == 0 || received == size)
            {
                peer.Reply(new UdpFrame(AcknowledgementBytes, port, received)); // cumulative: every frame up to this one
            }
        });
    }

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long frames = context.Size;
        IEnumerable<Op> Body(ScriptProgram p)
        {
            long sent = 0, acknowledged = 0;
            while (acknowledged < frames)
            {
                while (sent < frames && sent - acknowledged < WindowFrames)
                {
                    p.PendingArgument = FramePayload;
                    yield return Call(SyscallNumber.Sendto);
                    yield return Op.Alu(50); // netperf's bookkeeping per send
                    sent++;
                }
                yield return Call(SyscallNumber.Recvfrom);
                acknowledged = Math.Max(acknowledged, (long)p.LastObserved);
            }
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(Body);
    }

    public override IReadOnlyList<string> FigureNames => ["throughput", "frames"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return
        [
            new Metric("throughput", outcome.PerSecond(context.Size * FramePayload * 8.0) / 1e6, "Mb/s"),
            new Metric("frames", outcome.PerSecond(context.Size), "frames/s"),
        ];
    }
}
