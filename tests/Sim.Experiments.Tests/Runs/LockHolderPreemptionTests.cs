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

    /// <summary>The run without PLE, shared by the tests that compare against it.</summary>
    private static readonly Lazy<WorkloadRunResult> WithoutPle = new(() => (Overcommitted with { PleWindow = "off" }).RunOnce(1));

    /// <summary>A statistic summed over every context of the machine (every virtual CPU of every guest).</summary>
    private static double Total(WorkloadRunResult r, string statistic) => r.Run.Samples.Where(s => s.Statistic == statistic).Sum(s => s.Value);

    [Fact]
    public void Without_PLE_a_waiter_spins_away_its_slice_while_the_lock_waits_for_a_descheduled_virtual_CPU()
    {
        WorkloadRunResult r = WithoutPle.Value;
        Assert.Equal(0, Total(r, "vm_exits::" + ExitReason.Pause));
        double spin = Total(r, "lock_spin_cycles"), lost = Total(r, "lock_spin_preempted_cycles");
        Assert.True(lost > 0.5 * spin, $"{lost:N0} of {spin:N0} spin cycles waited for a descheduled holder or next waiter");
        Assert.True(spin > 0.1 * r.Outcome.CoreCycles, $"spinning took {spin:N0} of {r.Outcome.CoreCycles:N0} cycles");
    }

    [Fact]
    public void PLE_turns_the_spin_into_PAUSE_exits_after_which_the_virtual_CPU_yields_its_core()
    {
        WorkloadRunResult off = WithoutPle.Value, ple = Overcommitted.RunOnce(1);
        Assert.Equal(ple.Run.Samples, Overcommitted.RunOnce(1).Run.Samples); // byte-identical on a rerun
        double exits = Total(ple, "vm_exits::" + ExitReason.Pause), yields = ple.Stat("host.hypervisor", "vcpu_yields");
        Assert.True(exits > 0 && yields > 0 && yields <= exits, $"{exits} PAUSE exits, {yields} yields");
        Assert.True(Total(ple, "lock_spin_preempted_cycles") < 0.1 * Total(off, "lock_spin_preempted_cycles"),
            $"{Total(ple, "lock_spin_preempted_cycles"):N0} cycles lost with PLE against {Total(off, "lock_spin_preempted_cycles"):N0} without");
        Assert.True(ple.Outcome.SimulatedSeconds < 0.5 * off.Outcome.SimulatedSeconds,
            $"{ple.Outcome.SimulatedSeconds * 1e3:F1} ms with PLE against {off.Outcome.SimulatedSeconds * 1e3:F1} without");
    }

    [Fact]
    public void A_PLE_window_longer_than_any_spin_exits_never_and_changes_nothing()
    {
        WorkloadRunResult r = (Overcommitted with { PleWindow = "1000000000" }).RunOnce(1);
        Assert.Equal(0, Total(r, "vm_exits::" + ExitReason.Pause));
        Assert.Equal(WithoutPle.Value.Run.Samples, r.Run.Samples);
    }

    [Fact]
    public void A_paravirtual_waiter_halts_after_spinning_SPIN_THRESHOLD_rounds_and_the_unlock_that_serves_it_kicks_it_by_hypercall()
    {
        WorkloadRunResult off = WithoutPle.Value, pv = (Overcommitted with { PleWindow = "off", PvSpinlocks = true }).RunOnce(1);
        double halts = Total(pv, "pv_lock_halts"), kicks = Total(pv, "pv_lock_kicks");
        Assert.True(halts > 0 && kicks > 0 && kicks <= halts, $"{halts} halts, {kicks} kicks");
        Assert.Equal(kicks, Total(pv, "vm_exits::" + ExitReason.Vmcall)); // each kick one KVM_HC_KICK_CPU
        Assert.Equal(0, Total(off, "pv_lock_halts"));
        Assert.True(pv.Outcome.SimulatedSeconds < 0.5 * off.Outcome.SimulatedSeconds,
            $"{pv.Outcome.SimulatedSeconds * 1e3:F1} ms with PV spinlocks against {off.Outcome.SimulatedSeconds * 1e3:F1} without");
    }
}
