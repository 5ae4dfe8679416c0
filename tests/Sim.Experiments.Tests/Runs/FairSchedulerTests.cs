using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Cpu;

namespace Sim.Experiments.Tests.Runs;

/// <summary>The CFS-like host scheduler (<c>host_scheduler: cfs</c>): virtual CPUs as the host's threads, least virtual runtime first.</summary>
public class FairSchedulerTests
{
    private static readonly WorkloadScenario CpuBound = new()
    {
        Workload = "lat-null", Profile = "nehalem-x5570", Preset = "type1", Size = 600_000, HostScheduler = "cfs",
    };

    private static double Running(WorkloadRunResult r, string cpu) => r.Stat(cpu, "cycles::total") - r.Stat(cpu, "cycles::" + CycleCategory.Descheduled);

    [Fact]
    public void Two_busy_guests_on_a_core_alternate_in_slices_of_a_few_milliseconds_and_each_takes_twice_as_long()
    {
        // One CPU: the period is 6 ms, 3 ms each; preemption is noticed at the next exit or 4 ms
        // tick, so about one switch every 4 ms, where credit's 30 ms slices switch a few times.
        WorkloadRunResult alone = CpuBound.RunOnce(1);
        WorkloadRunResult shared = (CpuBound with { Guests = 2 }).RunOnce(1);
        WorkloadRunResult credit = (CpuBound with { Guests = 2, HostScheduler = "credit" }).RunOnce(1);
        foreach (GuestResult g in shared.Guests)
        {
            Assert.InRange(g.Outcome.SimulatedSeconds / alone.Outcome.SimulatedSeconds, 1.75, 2.05);
        }
        double seconds = shared.Guests.Max(g => g.Outcome.SimulatedSeconds);
        double switches = shared.Stat("host.hypervisor", "vcpu_switches");
        Assert.InRange(seconds * 1000 / switches, 3.0, 5.0); // milliseconds between switches
        Assert.True(credit.Stat("host.hypervisor", "vcpu_switches") * 4 < switches, "credit's slices are ten times as long");
        Assert.Equal(shared.Run.Samples, (CpuBound with { Guests = 2 }).RunOnce(1).Run.Samples); // byte-identical on a rerun
    }

    [Fact]
    public void Weights_of_two_to_one_give_two_to_one_CPU_time_at_once()
    {
        // Virtual runtime advances at 1024/weight: the heavier guest runs twice as long for the
        // same advance, from the start (credit needs half a second to get there).
        WorkloadRunResult r = (CpuBound with { Size = 100_000_000, Guests = 2, VcpuWeights = "512,256", TimeLimitMs = 120 }).RunOnce(1);
        Assert.InRange(Running(r, r.Guests[0].CorePath) / Running(r, r.Guests[1].CorePath), 2.0 * 0.95, 2.0 * 1.05);
    }

    [Fact]
    public void A_core_left_idle_pulls_a_waiting_virtual_CPU_from_the_busiest_core()
    {
        // Three guests on two cores, vm1 short on CPU 1: once it is done, CPU 1 goes newly idle
        // and pulls whichever of vm0 and vm2 waits on CPU 0, and both end about as soon as alone.
        WorkloadScenario s = CpuBound with { Guests = 3, HostCores = 2, GuestWorkloads = "lat-null:100000,lat-null:600000" };
        WorkloadRunResult balanced = s.RunOnce(1), alone = CpuBound.RunOnce(1);
        Assert.True(balanced.Stat("host.hypervisor", "vcpu_migrations") >= 1);
        foreach (int g in (int[])[0, 2])
        {
            Assert.InRange(balanced.Guests[g].Outcome.SimulatedSeconds / alone.Outcome.SimulatedSeconds, 1.0, 1.35);
        }
    }
}
