using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// The host's 82599 under ixgbe (`nic: 82599`, docs/machine.md "Network cards"): a queue pair per
/// CPU, receive-side scaling over the flows' addresses and ports, an MSI-X message per queue to its
/// CPU, and no register read on either path.
/// </summary>
public class MultiQueueNicTests
{
    private static readonly WorkloadScenario FourContainers = new()
    {
        Workload = "netperf-stream", Profile = "nehalem-x5570", Preset = "oslevel", Guests = 4, HostCores = 4, Size = 1000,
    };

    [Fact]
    public void Four_containers_streams_spread_their_receive_interrupts_over_CPUs_where_the_e1000_puts_them_all_on_CPU_0()
    {
        WorkloadRunResult e1000 = FourContainers.RunOnce(1);
        WorkloadRunResult rss = (FourContainers with { Nic = "82599" }).RunOnce(1), again = (FourContainers with { Nic = "82599" }).RunOnce(1);
        Assert.Equal("host.cpu0", BindingResource.Of(e1000).Binding);
        double[] byQueue = [.. Enumerable.Range(0, 16).Select(q => rss.Stat("host.nic0", $"frames_by_queue::Q{q}"))];
        Assert.Equal(rss.Stat("host.nic0", "frames_received"), byQueue.Sum());
        Assert.True(byQueue.Count(f => f > 0) >= 2, "the four flows' acknowledgements land in more than one queue");
        Assert.All(byQueue.Skip(4), f => Assert.Equal(0, f)); // four CPUs, four queues
        Assert.True(rss.HostCpuUtilization[0] < e1000.HostCpuUtilization[0] - 0.05, "CPU 0 no longer takes every interrupt");
        Assert.True(rss.FiguresOfMerit[0].Value > 1.3 * e1000.FiguresOfMerit[0].Value,
            $"{rss.FiguresOfMerit[0].Value:F0} Mb/s against the e1000's {e1000.FiguresOfMerit[0].Value:F0}");
        Assert.Equal(rss.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)), again.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)));
    }

    [Fact]
    public void A_request_response_reads_no_register_of_the_82599_and_writes_three_where_the_e1000_makes_seven_accesses()
    {
        WorkloadScenario rr = new() { Workload = "netperf-rr", Profile = "nehalem-x5570", Size = 300, HostCores = 1 };
        WorkloadRunResult e1000 = rr.RunOnce(1), rss = (rr with { Nic = "82599" }).RunOnce(1);
        // Per transaction: the send's TDT write, and per interrupt the RDT and EIMS writes (the e1000: TDT, then ICR, IMC, STATUS, RDT, IMS, STATUS).
        Assert.InRange(rss.Stat("host.nic0", "accesses") / 300, 2.9, 3.5);
        Assert.InRange(e1000.Stat("host.nic0", "accesses") / 300, 6.9, 7.5);
        Assert.True(rss.FiguresOfMerit.Single(m => m.Name == "round_trip").Value < e1000.FiguresOfMerit.Single(m => m.Name == "round_trip").Value);
    }
}
