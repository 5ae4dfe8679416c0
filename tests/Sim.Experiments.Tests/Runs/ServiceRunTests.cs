using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Network services of several containers on one NIC, the open-loop web client, and guests held to the host's memory.</summary>
public class ServiceRunTests
{
    private static readonly WorkloadScenario Nehalem = new() { Profile = "nehalem-x5570" };

    private static double Metric(IReadOnlyList<Metric> figures, string name) => figures.Single(f => f.Name == name).Value;

    [Fact]
    public void Each_container_s_requests_reach_its_own_socket_and_each_gets_its_own_answers()
    {
        WorkloadRunResult r = (Nehalem with { Workload = "netperf-rr", Preset = "oslevel", Guests = 3, Size = 200 }).RunOnce(1);
        Assert.Equal(3, r.Guests.Count);
        Assert.Equal(0, r.Stat("host.kernel.net", "no_socket"));
        Assert.Equal(3 * 200, r.Stat("host.nic0", "frames_sent"));
        Assert.Equal(3 * 200, r.Stat("host.nic0", "frames_received"));
        // One NIC and one wire for all: each transaction takes longer than alone, none is lost.
        WorkloadRunResult alone = (Nehalem with { Workload = "netperf-rr", Size = 200 }).RunOnce(1);
        Assert.All(r.Guests, g => Assert.True(Metric(g.FiguresOfMerit, "round_trip") > Metric(alone.FiguresOfMerit, "round_trip")));
    }

    [Fact]
    public void Four_web_containers_share_the_one_core_and_each_serves_about_a_quarter()
    {
        WorkloadRunResult alone = (Nehalem with { Workload = "web", Size = 200 }).RunOnce(1);
        WorkloadRunResult four = (Nehalem with { Workload = "web", Preset = "oslevel", Guests = 4, Size = 200 }).RunOnce(1);
        double single = Metric(alone.FiguresOfMerit, "requests");
        Assert.All(four.Guests, g => Assert.InRange(Metric(g.FiguresOfMerit, "requests") / single, 0.20, 0.30));
    }

    [Fact]
    public void An_open_loop_client_at_a_light_load_is_served_at_its_rate_and_reports_response_times()
    {
        WorkloadScenario s = Nehalem with { Workload = "web", RequestRate = 2000, Size = 300 };
        Assert.Contains("open-loop", s.ResolveWorkload().Workload.Description, StringComparison.Ordinal);
        WorkloadRunResult r = s.RunOnce(1);
        double p50 = Metric(r.FiguresOfMerit, "response_p50"), p99 = Metric(r.FiguresOfMerit, "response_p99");
        Assert.InRange(Metric(r.FiguresOfMerit, "requests"), 1700, 2300); // 300 Poisson arrivals: the rate within sampling error
        Assert.InRange(p50, 10, 100); // about the ~24 us of service plus the wire at a 5% load
        Assert.True(p99 >= p50);
        Assert.Equal(r.FiguresOfMerit, s.RunOnce(1).FiguresOfMerit); // the arrivals come from the seed
    }

    [Fact]
    public void Past_the_core_s_capacity_response_times_grow_by_orders_of_magnitude()
    {
        WorkloadScenario s = Nehalem with { Workload = "web", Preset = "oslevel", Size = 200 };
        double light = Metric((s with { Guests = 2, RequestRate = 2000 }).RunOnce(1).FiguresOfMerit, "response_p99");
        double overloaded = Metric((s with { Guests = 4, RequestRate = 16000 }).RunOnce(1).FiguresOfMerit, "response_p99");
        Assert.True(overloaded > 20 * light, $"p99 {overloaded} us overloaded against {light} us light");
    }

    [Fact]
    public void A_guest_woken_by_its_nic_while_another_holds_the_core_is_answered_in_microseconds_not_at_the_next_slice()
    {
        // Two lightly loaded web VMs on one core: each wake must reach the physical core at once
        // (a kick raised during a switch once stayed with the parked context until its next turn, 30 ms on).
        foreach (string profile in new[] { "nehalem-x5570", "skylake-sp" })
        {
            WorkloadRunResult r = (Nehalem with { Profile = profile, Workload = "web", Preset = "type1", Guests = 2, RequestRate = 500, Size = 200 }).RunOnce(42);
            Assert.All(r.Guests, g => Assert.InRange(Metric(g.FiguresOfMerit, "response_p99"), 10, 300));
        }
    }

    [Fact]
    public void A_time_limit_stops_the_run_and_marks_what_did_not_finish_and_one_never_reached_changes_nothing()
    {
        WorkloadScenario s = Nehalem with { Workload = "web", Preset = "oslevel", Guests = 3, RequestRate = 1000, Size = 100 };
        WorkloadRunResult cut = (s with { TimeLimitMs = 50 }).RunOnce(1); // 100 requests at 1,000/s take about 100 ms
        Assert.Equal(50, cut.TimeLimit!.Value.Picoseconds / 1e9);
        Assert.Equal(3, cut.Unfinished);
        Assert.All(cut.Guests, g => Assert.False(g.Finished));
        Assert.All(cut.FiguresOfMerit, m => Assert.True(double.IsNaN(m.Value)));
        Assert.Equal((long)cut.Outcome.CoreCycles, cut.CyclesByCategory.Values.Sum()); // the accounts still sum at a cut

        WorkloadRunResult whole = s.RunOnce(1);
        WorkloadRunResult roomy = (s with { TimeLimitMs = 10_000 }).RunOnce(1);
        Assert.Null(roomy.TimeLimit);
        Assert.Equal(0, roomy.Unfinished);
        Assert.Equal(whole.FiguresOfMerit, roomy.FiguresOfMerit);
    }

    [Fact]
    public void A_request_rate_is_refused_for_a_workload_without_an_open_loop_client()
    {
        Assert.Contains("request_rate is for the services with an open-loop client (web)", (Nehalem with { Workload = "fio-randread", RequestRate = 10 }).FirstProblem(), StringComparison.Ordinal);
    }

    [Fact]
    public void Virtual_machines_that_do_not_fit_the_host_s_memory_are_refused_before_running()
    {
        WorkloadScenario s = Nehalem with { Workload = "lat-null", Preset = "type1", HostMemoryMiB = 1024, GuestMemoryMiB = 256 };
        Assert.Null((s with { Guests = 2 }).FirstProblem());
        // 3 x 256 + 256 = 1024, but each VM's EPT tables (0.5 MiB) are real frames of the host's too.
        string? problem = (s with { Guests = 3 }).FirstProblem();
        Assert.Contains("3 virtual machines of 256 MiB with their EPT tables (2 MiB) and the hypervisor's 256 MiB need 1026 MiB, and the host has 1024 MiB", problem, StringComparison.Ordinal);
        Assert.Contains("2 MiB short; vm0 to vm1 fit, and vm2 is the first that does not", problem, StringComparison.Ordinal); // which guest, and by how much
        Assert.Null((s with { Guests = 3, Mmu = "shadow" }).FirstProblem()); // shadow tables are made as the guest runs, from the allowance
        Assert.Throws<ArgumentException>(() => (s with { Guests = 4 }).RunOnce(1));
        Assert.Null((s with { Guests = 4, Preset = "oslevel" }).FirstProblem()); // containers reserve nothing
    }
}
