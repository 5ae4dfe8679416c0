using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Cpu;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// Xen's driver domain under the paravirt preset (docs/virtualization.md, "Xen's driver domain"):
/// the guest's frontends notify dom0's netback and blkback on event channels, dom0's virtual CPU
/// runs them on a host CPU, each frame crosses by a grant copy and each block request's page is
/// mapped by grant and unmapped when done, and the guest is notified by an event in return.
/// </summary>
public class Dom0BackendTests
{
    private static readonly WorkloadScenario Reads = new()
    {
        Workload = "fio-randread-qd32", Profile = "nehalem-x5570", Preset = "paravirt", Disk = "nvme", Size = 300,
    };

    private static readonly WorkloadScenario RequestResponse = new()
    {
        Workload = "netperf-rr", Profile = "nehalem-x5570", Preset = "paravirt", Size = 200,
    };

    [Fact]
    public void Blkback_maps_and_unmaps_a_grant_per_request_with_no_host_system_call_and_dom0s_cycles_are_counted_for_the_guest()
    {
        WorkloadRunResult r = Reads.RunOnce(1);
        Assert.Equal(300, r.Stat("vm0.disk0", "requests"));
        Assert.Equal(300, r.Stat("vm0.dom0", "completions"));
        Assert.Equal(300, r.Stat("vm0.dom0", "grant_maps"));
        Assert.Equal(300, r.Stat("vm0.dom0", "grant_unmaps"));
        Assert.Equal(0, r.Stat("vm0.dom0", "grant_copies"));
        Assert.Equal(0, r.Stat("host.monitor", "host_io_syscalls")); // dom0's kernel submits the bio: no QEMU, no system call
        // Every completion the guest wants notified is an event from dom0; the guest notifies dom0 on its channel (EVTCHNOP_send).
        Assert.InRange(r.Stat("vm0.dom0", "events_sent"), 1, 300);
        Assert.InRange(r.Stat("host.monitor", "hypercalls::EventChannelOp"), 1, 300);
        double dom0 = r.Stat("vm0.dom0", "cycles");
        Assert.InRange(dom0, 300 * 3_000, r.Outcome.CoreCycles);
        Assert.True(r.CyclesByCategory[CycleCategory.DeviceEmulation] > 0.5 * dom0);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void Netback_copies_each_frame_by_grant_both_ways_and_the_frames_cross_dom0s_bridge()
    {
        WorkloadRunResult r = RequestResponse.RunOnce(1);
        Assert.Equal(400, r.Stat("vm0.dom0", "grant_copies")); // each request received and each response sent
        Assert.Equal(0, r.Stat("vm0.dom0", "grant_maps"));
        Assert.Equal(400, r.Stat("host.monitor", "bridged_frames"));
        Assert.Equal(200, r.Stat("vm0.dom0", "completions")); // the received frames come to dom0 from the physical NIC
    }

    [Fact]
    public void Dom0_costs_the_guest_time_it_had_for_free_before_it_was_modelled()
    {
        // With its backend run in the hypervisor's exit, a transaction took about 6.8 us; dom0's wake-ups,
        // grant copies, events and bridge put its host CPU's work back between the frames.
        WorkloadRunResult r = RequestResponse.RunOnce(1);
        double perTransaction = r.Stat("vm0.dom0", "cycles") / 200;
        Assert.True(perTransaction > 8_000, $"dom0 ran {perTransaction:F0} cycles a transaction");
        Assert.True(r.FiguresOfMerit.Single(f => f.Name == "round_trip").Value > 10, "a round trip through dom0 is slower than native's 10.5 us");
    }

    [Fact]
    public void Dom0_pinned_to_a_CPU_of_its_own_runs_there_the_report_names_it_and_reruns_are_identical()
    {
        WorkloadScenario pinned = RequestResponse with { HostCores = 2, IoThreadCpu = "1" };
        WorkloadRunResult r = pinned.RunOnce(1), again = pinned.RunOnce(1);
        Assert.Equal(1, r.Stat("vm0.dom0", "cpu"));
        Assert.InRange(r.HostCpuUtilization[1], 0.05, 0.95);
        Assert.True(r.Stat("host.cpu1", "instructions") > 200 * 5_000, "dom0's instructions ran on CPU 1");
        Assert.Equal(r.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)), again.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)));
        WorkloadRunResult shared = RequestResponse.RunOnce(1);
        Assert.True(r.FiguresOfMerit.Single(f => f.Name == "round_trip").Value < shared.FiguresOfMerit.Single(f => f.Name == "round_trip").Value,
            "dom0 on a CPU of its own no longer takes the guest's CPU between its frames");
        Assert.Contains(BindingResource.Of(r).Resources, u => u.Resource == "vm0.dom0 on host.cpu1");
    }

    [Fact]
    public void Netback_never_reads_a_frame_the_guest_overwrote_so_overlapping_answers_reach_the_client_whole()
    {
        // Open loop at 1,000 requests/s: answers overlap, each of 8 frames sent back to back, and
        // dom0 reads a frame on its own CPU after the guest has gone on. Each frame keeps its
        // buffer until netback has read it, so every answer reaches the client with its own id.
        var web = new WorkloadScenario { Workload = "web", Profile = "nehalem-x5570", Preset = "paravirt", Size = 300, RequestRate = 1000 };
        WorkloadRunResult r = web.RunOnce(1);
        Assert.Equal(0, r.FiguresOfMerit.Single(m => m.Name == "requests_lost").Value);
        Assert.InRange(r.Stat("vm0.dom0", "grant_copies"), (300 * 9) - 8, 300 * 9); // each request's frame and its answer's 8, but for the last answer's still on their way when the guest ends
        Assert.Equal(r.Run.Samples, web.RunOnce(1).Run.Samples);
    }
}
