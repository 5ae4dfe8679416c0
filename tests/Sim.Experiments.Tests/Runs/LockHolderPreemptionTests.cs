using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// Lock-holder preemption on an overcommitted host, and PAUSE-loop exiting: two VMs of four
/// virtual CPUs on two cores of Skylake-SP, eight threads in each taking one futex-based mutex, so
/// that their guest kernels' futex hash-bucket spinlocks are contended.
/// </summary>
public class LockHolderPreemptionTests
{
    private static readonly WorkloadScenario Overcommitted = new()
    {
        Workload = "mutex-counter", Profile = "skylake-sp", Preset = "type1", Vcpus = "4", Guests = 2, HostCores = 2, Threads = 8, Size = 4000,
    };

    /// <summary>A statistic summed over every context of the machine (every virtual CPU of every guest).</summary>
    private static double Total(WorkloadRunResult r, string statistic) => r.Run.Samples.Where(s => s.Statistic == statistic).Sum(s => s.Value);

    [Fact]
    public void Without_PLE_a_waiter_spins_away_its_slice_while_the_lock_waits_for_a_descheduled_virtual_CPU()
    {
        WorkloadRunResult r = (Overcommitted with { PleWindow = "off" }).RunOnce(1);
        Assert.Equal(0, Total(r, "vm_exits::" + ExitReason.Pause));
        double spin = Total(r, "lock_spin_cycles"), lost = Total(r, "lock_spin_preempted_cycles");
        Assert.True(lost > 0.5 * spin, $"{lost:N0} of {spin:N0} spin cycles waited for a descheduled holder or next waiter");
        Assert.True(spin > 0.1 * r.Outcome.CoreCycles, $"spinning took {spin:N0} of {r.Outcome.CoreCycles:N0} cycles");
    }

    [Fact]
    public void PLE_turns_the_spin_into_PAUSE_exits_after_which_the_virtual_CPU_yields_its_core()
    {
        WorkloadRunResult off = (Overcommitted with { PleWindow = "off" }).RunOnce(1), ple = Overcommitted.RunOnce(1);
        Assert.Equal(ple.Run.Samples, Overcommitted.RunOnce(1).Run.Samples); // byte-identical on a rerun
        double exits = Total(ple, "vm_exits::" + ExitReason.Pause), yields = ple.Stat("host.hypervisor", "vcpu_yields");
        Assert.True(exits > 0 && yields > 0 && yields <= exits, $"{exits} PAUSE exits, {yields} yields");
        Assert.True(Total(ple, "lock_spin_preempted_cycles") < 0.1 * Total(off, "lock_spin_preempted_cycles"),
            $"{Total(ple, "lock_spin_preempted_cycles"):N0} cycles lost with PLE against {Total(off, "lock_spin_preempted_cycles"):N0} without");
        Assert.True(ple.Outcome.SimulatedSeconds < 0.5 * off.Outcome.SimulatedSeconds,
            $"{ple.Outcome.SimulatedSeconds * 1e3:F1} ms with PLE against {off.Outcome.SimulatedSeconds * 1e3:F1} without");
    }

    [Fact]
    public void A_PLE_window_longer_than_any_spin_exits_never()
    {
        WorkloadRunResult r = (Overcommitted with { PleWindow = "1000000000" }).RunOnce(1);
        Assert.Equal(0, Total(r, "vm_exits::" + ExitReason.Pause));
    }
}
