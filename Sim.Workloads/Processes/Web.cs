using Sim.Engine.Events;
using Sim.Engine.Randomness;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Kernel;
using Sim.Models.Platform;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// A web server under one closed-loop client: the client (the NIC's peer) sends a 200-byte
/// request, the server receives it, does 20,000 instructions of work with 100 random loads in a
/// 256 KiB page cache, and answers with eight full frames (about 11.6 KB); when the client has
/// the whole answer it sends the next request. The sizes and work are assumptions standing for
/// static-file serving; figure of merit: requests per second.
/// </summary>
public sealed class Web : ProcessWorkload
{
    private const int RequestBytes = 200;
    private const int ResponseFrames = 8;
    private const int FramePayload = 1472; // a full Ethernet frame of UDP payload
    private const ulong Cache = 0x0000_0000_2000_0000;
    private const ulong CacheBytes = 256UL << 10;

    public override string Name => "web";

    public override string Description => "a web server answering a closed-loop client: 200-byte requests, ~11.6 KB answers (size = requests)";

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Image(textPages: 64, dataPages: 16, stackPages: 8, new MemoryRegion("cache", Cache, CacheBytes / 4096, Writable: true));

    public override void ConfigurePlatform(IPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        INetworkCard nic = platform.Devices.Network ?? throw new InvalidOperationException("The web workload needs a NIC.");
        int framesSeen = 0;
        nic.PeerReceives = _ =>
        {
            if (++framesSeen % ResponseFrames == 0)
            {
                nic.PeerSends(RequestBytes + EthernetLink.UdpHeaderBytes); // the whole answer is in: the next request
            }
        };
        platform.Sim.Schedule(new CallbackEvent(platform.Name + ".peer.first-request", () => nic.PeerSends(RequestBytes + EthernetLink.UdpHeaderBytes)), Tick.FromMicroseconds(10));
    }

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RandomStream random = context.Random.For("workload.web.thread0");
        long requests = context.Size;
        IEnumerable<Op> Body(ScriptProgram p)
        {
            for (long r = 0; r < requests; r++)
            {
                yield return Call(SyscallNumber.Recvfrom);
                for (int i = 0; i < 100; i++)
                {
                    yield return Op.Alu(200);
                    yield return Op.Load(Cache + (random.NextBelow(CacheBytes / 8) * 8));
                }
                for (int f = 0; f < ResponseFrames; f++)
                {
                    p.PendingArgument = FramePayload;
                    yield return Call(SyscallNumber.Sendto);
                }
            }
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(Body);
    }

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return [new Metric("requests", outcome.PerSecond(context.Size), "requests/s")];
    }
}
