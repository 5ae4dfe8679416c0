using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Workloads;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>The bulk-transfer workload: every frame delivered under its window, and the I/O paths' per-frame costs showing in its throughput.</summary>
public class NetperfStreamTests
{
    private static readonly WorkloadScenario Stream = new() { Workload = "netperf-stream", Profile = "nehalem-x5570", Size = 600 };

    private static double Throughput(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "throughput").Value;

    [Fact]
    public void Every_frame_reaches_the_peer_and_every_second_one_is_acknowledged()
    {
        WorkloadRunResult r = Stream.RunOnce(1);
        Assert.Equal(600, r.Stat("host.nic0", "frames_sent"));
        Assert.Equal(300, r.Stat("host.nic0", "frames_received")); // the acknowledgements
        Assert.Equal(0, r.Stat("host.nic0", "frames_dropped"));
        Assert.Equal(600 * NetperfStream.FramePayload * 8 / r.Outcome.SimulatedSeconds / 1e6, Throughput(r), 6);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void Under_type1_virtio_net_moves_more_than_the_emulated_e1000_and_vhost_more_than_both_all_below_native()
    {
        double native = Throughput(Stream.RunOnce(1));
        double e1000 = Throughput((Stream with { Preset = "type1", Io = "emulated" }).RunOnce(1));
        double virtio = Throughput((Stream with { Preset = "type1", Io = "paravirtual" }).RunOnce(1));
        double vhost = Throughput((Stream with { Preset = "type1", Io = "paravirtual", VirtioBackend = "kernel" }).RunOnce(1));
        Assert.True(e1000 < virtio && virtio < vhost && vhost < native, $"e1000 {e1000:F0}, virtio {virtio:F0}, vhost {vhost:F0}, native {native:F0} Mb/s");
    }
}
