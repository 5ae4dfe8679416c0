using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// The host's physical disk and port under a hypervisor (docs/virtualization.md, "Shared host
/// devices"): every guest's image lies on the one disk and every guest's frames cross the one
/// wire, so guests queue behind each other there, and the report shows each queue's depth and
/// wait; a guest's frames through a backend cross the host's bridge, and a container's frames its
/// veth pair and bridge unless it is on the host's network.
/// </summary>
public class SharedHostDeviceTests
{
    private static readonly WorkloadScenario Reads = new()
    {
        Workload = "fio-randread", Profile = "nehalem-x5570", Preset = "type1", Io = "paravirtual", Disk = "hdd", Size = 40, HostCores = 2,
    };

    private static double Figure(WorkloadRunResult r, string name) => r.FiguresOfMerit.Single(m => m.Name == name).Value;

    [Fact]
    public void Two_guests_reading_the_host_s_one_rotating_disk_queue_behind_each_other_and_each_gets_about_half()
    {
        WorkloadRunResult one = Reads.RunOnce(1), two = (Reads with { Guests = 2 }).RunOnce(1);
        Assert.Equal(40, one.Stat("host.disk0.medium", "requests"));
        Assert.Equal(80, two.Stat("host.disk0.medium", "requests"));
        Assert.Equal(0, two.Stat("vm0.disk0.medium", "requests")); // no disk of its own: an image on the host's
        // Alone at depth 1 a read never waits for the medium; two guests' reads wait for each other's.
        Assert.Equal(0, one.Stat("host.disk0.medium", "wait::mean"));
        Assert.True(two.Stat("host.disk0.medium", "wait::mean") > 1e6, $"mean wait {two.Stat("host.disk0.medium", "wait::mean")} ns"); // a seek and a rotation: milliseconds
        Assert.Equal(2, two.Stat("host.disk0.medium", "depth_max"));
        double alone = Figure(one, "iops");
        foreach (GuestResult g in two.Guests)
        {
            Assert.InRange(g.FiguresOfMerit.Single(m => m.Name == "iops").Value, 0.35 * alone, 0.65 * alone);
        }
        HostQueue disk = HostQueue.All(two.Run.Samples, two.Outcome.SimulatedSeconds).Single(q => q.Queue == "host.disk0.medium");
        Assert.InRange(disk.BusyShare, 0.9, 1.0); // the medium, not the CPUs, is what the two share
        Assert.InRange(disk.MeanDepth!.Value, 1.5, 2.0);
        Assert.Contains("host.disk0.medium", WorkloadRunReport.ToText([two], "two guests"), StringComparison.Ordinal);
    }

    [Fact]
    public void An_assigned_disk_is_the_guest_s_own_and_two_guests_do_not_share_it()
    {
        WorkloadRunResult r = (Reads with { Io = "passthrough", Guests = 2 }).RunOnce(1);
        Assert.Equal(0, r.Stat("host.disk0.medium", "requests"));
        Assert.Equal(40, r.Stat("vm0.disk0.medium", "requests"));
        Assert.Equal(40, r.Stat("vm1.disk0.medium", "requests"));
        Assert.Equal(0, r.Stat("vm1.disk0.medium", "wait::mean"));
    }

    [Fact]
    public void Two_guests_streaming_share_the_host_s_port_and_their_frames_wait_for_the_wire()
    {
        var stream = new WorkloadScenario { Workload = "netperf-stream", Profile = "nehalem-x5570", Preset = "type1", Io = "passthrough", Size = 400, HostCores = 2 };
        WorkloadRunResult one = stream.RunOnce(1), two = (stream with { Guests = 2 }).RunOnce(1);
        Assert.Equal(0, one.Stat("vm0.link", "wait_to_peer::count"));
        Assert.Equal(400, one.Stat("host.link", "wait_to_peer::count"));
        Assert.Equal(800, two.Stat("host.link", "wait_to_peer::count")); // both guests' frames on the one wire (an assigned NIC is a virtual function of the port)
        Assert.True(two.Stat("host.link", "wait_to_peer::mean") > one.Stat("host.link", "wait_to_peer::mean"),
            $"a frame waited {two.Stat("host.link", "wait_to_peer::mean")} ns with two guests against {one.Stat("host.link", "wait_to_peer::mean")} ns alone");
    }

    [Fact]
    public void A_guest_s_frames_through_a_backend_cross_the_host_s_bridge_and_an_assigned_function_s_do_not()
    {
        var rr = new WorkloadScenario { Workload = "netperf-rr", Profile = "nehalem-x5570", Preset = "type1", Io = "paravirtual", Size = 200 };
        Assert.Equal(400, rr.RunOnce(1).Stat("host.hypervisor", "bridged_frames")); // the request in, the answer out
        Assert.Equal(400, (rr with { VirtioBackend = "kernel" }).RunOnce(1).Stat("host.hypervisor", "bridged_frames"));
        Assert.Equal(400, (rr with { Io = "emulated" }).RunOnce(1).Stat("host.hypervisor", "bridged_frames"));
        // The hosted monitor's process bridges the frames it sends, and those it receives reach it through the host's bridge too.
        Assert.Equal(400, (rr with { Preset = "type2", Io = "emulated" }).RunOnce(1).Stat("host.hypervisor", "bridged_frames"));
        Assert.Equal(0, (rr with { Io = "passthrough" }).RunOnce(1).Stat("host.hypervisor", "bridged_frames"));
    }

    [Fact]
    public void A_container_on_a_bridge_pays_its_veth_pair_and_bridge_per_frame_and_one_on_the_host_network_does_not()
    {
        var rr = new WorkloadScenario { Workload = "netperf-rr", Profile = "nehalem-x5570", Preset = "oslevel", Size = 200 };
        WorkloadRunResult bridge = rr.RunOnce(1), host = (rr with { ContainerNetwork = "host" }).RunOnce(1);
        WorkloadRunResult native = (rr with { Preset = "native" }).RunOnce(1);
        Assert.Equal(400, bridge.Stat("host.kernel.container", "bridged_frames"));
        Assert.Equal(0, host.Stat("host.kernel.container", "bridged_frames"));
        double b = Figure(bridge, "round_trip"), h = Figure(host, "round_trip"), n = Figure(native, "round_trip");
        Assert.True(b > h + 1.0, $"bridged {b:F2} us against the host network's {h:F2} us"); // two crossings of about 1,400 instructions each
        Assert.InRange(h, 0.9 * n, 1.1 * n);
    }

    [Fact]
    public void A_container_behind_Dockers_NAT_pays_connection_tracking_the_rewrite_and_the_forward_chain_on_each_frame_besides_the_bridge()
    {
        var rr = new WorkloadScenario { Workload = "netperf-rr", Profile = "nehalem-x5570", Preset = "oslevel", Size = 200 };
        WorkloadRunResult bridge = rr.RunOnce(1), nat = (rr with { ContainerNetwork = "nat" }).RunOnce(1), again = (rr with { ContainerNetwork = "nat" }).RunOnce(1);
        Assert.Equal(400, nat.Stat("host.kernel.container", "bridged_frames")); // NAT rides on the bridge
        Assert.Equal(400, nat.Stat("host.kernel.container", "nat_frames"));
        Assert.DoesNotContain(bridge.Run.Samples, s => s.Statistic == "nat_frames"); // a kernel with no container behind NAT has none of it
        Assert.True(Figure(nat, "round_trip") > Figure(bridge, "round_trip") + 0.5, $"behind NAT {Figure(nat, "round_trip"):F2} us against the bridge's {Figure(bridge, "round_trip"):F2} us");
        Assert.Equal(nat.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)), again.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)));
    }
}
