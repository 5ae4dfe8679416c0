using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Cpu;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Virtual machines of several virtual CPUs under the VT-x hypervisor: the guest's SMP kernel on them, its IPIs through the virtual APIC, and the host's cores shared.</summary>
public class MultiprocessorGuestTests
{
    /// <summary>50 rounds of map, touch and unmap in a VM of four virtual CPUs, a computing thread on each of the other three: each unmap interrupts three virtual CPUs.</summary>
    private static readonly WorkloadScenario Shootdowns = new() { Workload = "tlb-shootdown", Profile = "nehalem-x5570", Preset = "type1", Vcpus = "4", Threads = 4, Size = 50 };

    private static long Exits(WorkloadRunResult r, ExitReason reason) => r.Exits.FirstOrDefault(e => e.Reason == reason).Count;

    /// <summary>The IPIs the guest kernel sent: three per shootdown, and its reschedule IPIs.</summary>
    private static double Ipis(WorkloadRunResult r) => (3 * r.Stat("vm0.kernel", "tlb_shootdowns")) + r.Stat("vm0.kernel", "reschedule_ipis");

    [Fact]
    public void Without_APIC_virtualization_an_IPI_is_two_APIC_access_exits_and_a_kick_to_a_running_target_or_a_wake_to_a_halted_one()
    {
        WorkloadRunResult r = Shootdowns.RunOnce(1);
        Assert.Equal(r.Run.Samples, Shootdowns.RunOnce(1).Run.Samples); // byte-identical on a rerun
        double ipis = Ipis(r);
        Assert.Equal(150, 3 * r.Stat("vm0.kernel", "tlb_shootdowns"));
        // The ICR's high then low half, each an APIC access; the targets' EOIs are more.
        Assert.True(Exits(r, ExitReason.ApicAccess) >= 2 * ipis, $"{Exits(r, ExitReason.ApicAccess)} APIC accesses for {ipis} IPIs");
        Assert.Equal(0, Exits(r, ExitReason.ApicWrite));
        // Every IPI kicks its target's core: a running one exits on the kick (an external
        // interrupt) and takes the interrupt at its VM entry, a halted one is woken.
        double kicks = r.Stat("host.hypervisor", "kicks"), wakes = r.Stat("host.hypervisor", "vcpu_wakes");
        Assert.True(kicks >= ipis, $"{kicks} kicks for {ipis} IPIs");
        Assert.True(wakes >= 1, "the idle virtual CPUs halted and were woken by reschedule IPIs");
        Assert.True(Exits(r, ExitReason.ExternalInterrupt) >= ipis - wakes, $"{Exits(r, ExitReason.ExternalInterrupt)} external-interrupt exits for {ipis - wakes} IPIs to running virtual CPUs");
    }

    [Fact]
    public void Hosted_an_IPI_takes_the_same_exits_and_kicks_and_no_world_switch_as_the_local_APIC_stays_in_the_monitor_s_kernel_part()
    {
        WorkloadRunResult hosted = (Shootdowns with { Preset = "type2" }).RunOnce(1), bare = Shootdowns.RunOnce(1);
        double ipis = Ipis(hosted);
        Assert.True(Exits(hosted, ExitReason.ApicAccess) >= 2 * ipis, $"{Exits(hosted, ExitReason.ApicAccess)} APIC accesses for {ipis} IPIs");
        Assert.Equal(Exits(bare, ExitReason.ApicAccess), Exits(hosted, ExitReason.ApicAccess));
        Assert.True(hosted.Stat("host.hypervisor", "kicks") >= ipis);
        Assert.True(hosted.Stat("host.hypervisor", "vcpu_wakes") >= 1);
        Assert.Equal(0, hosted.CyclesByCategory[CycleCategory.WorldSwitch]); // KVM's in-kernel irqchip: no trip to the monitor's process
    }

    [Fact]
    public void With_APIC_virtualization_and_posted_interrupts_an_IPI_is_one_APIC_write_exit_and_a_running_target_takes_it_without_one()
    {
        WorkloadRunResult r = (Shootdowns with { Profile = "skylake-sp" }).RunOnce(1);
        double ipis = Ipis(r);
        Assert.Equal(ipis, Exits(r, ExitReason.ApicWrite)); // SDM Vol. 3C 29.4.3.2: the ICR's low half only
        Assert.Equal(0, Exits(r, ExitReason.ApicAccess));
        Assert.Equal(0, Exits(r, ExitReason.ExternalInterrupt)); // posted to the running targets
        Assert.Equal(r.Stat("host.hypervisor", "vcpu_wakes"), r.Stat("host.hypervisor", "kicks")); // only halted targets need the core woken
    }

    [Fact]
    public void PV_TLB_flush_leaves_preempted_virtual_CPUs_to_the_hypervisor_instead_of_interrupting_them()
    {
        // Two such VMs on two cores: four virtual CPUs a core, so most targets of a shootdown are preempted.
        WorkloadScenario overcommitted = Shootdowns with { Guests = 2, HostCores = 2 };
        WorkloadRunResult ipis = overcommitted.RunOnce(1), pv = (overcommitted with { PvTlbFlush = true }).RunOnce(1);
        Assert.Equal(pv.Run.Samples, (overcommitted with { PvTlbFlush = true }).RunOnce(1).Run.Samples); // byte-identical on a rerun
        Assert.DoesNotContain(ipis.Run.Samples, s => s.Statistic is "pv_tlb_flush_requests" or "pv_tlb_flushes");

        double requests = pv.Stat("vm0.kernel", "pv_tlb_flush_requests") + pv.Stat("vm1.kernel", "pv_tlb_flush_requests");
        double flushes = pv.Stat("host.hypervisor", "pv_tlb_flushes");
        Assert.True(requests > 0, "some targets were preempted when their shootdown came");
        // A preempted virtual CPU's flags merge: it is flushed once at its next entry, however many shootdowns flagged it.
        Assert.InRange(flushes, 1, requests);
        Assert.True(Exits(pv, ExitReason.ApicAccess) < Exits(ipis, ExitReason.ApicAccess), $"{Exits(pv, ExitReason.ApicAccess)} APIC accesses with PV TLB flush against {Exits(ipis, ExitReason.ApicAccess)}");
        double Round(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "round_us").Value;
        Assert.True(Round(pv) < 0.5 * Round(ipis), $"{Round(pv):F2} us a round with PV TLB flush against {Round(ipis):F2}: the initiator no longer waits for a descheduled target to run and acknowledge");
    }

    [Fact]
    public void A_web_server_on_two_virtual_CPUs_hands_the_emulated_NIC_the_transmit_tail_its_kernel_has_when_the_write_runs()
    {
        // The SMP kernel writes the e1000's TDT with the tail as it stands when the write runs; in a
        // VM that write exits, and the device model must get that tail too (it once got the
        // kernel's placeholder, and the card looped over its ring for ever).
        var native = new WorkloadScenario { Workload = "web", Profile = "skylake-sp", HostCores = 2, Threads = 2, Size = 100 };
        WorkloadRunResult bare = native.RunOnce(1), vm = (native with { Preset = "type1", HostCores = null, Vcpus = "2" }).RunOnce(1);
        Assert.Equal(bare.Stat("host.nic0", "frames_sent"), vm.Stat("vm0.nic0", "frames_sent"));
        Assert.True(vm.Stat("vm0.nic0", "frames_sent") >= 100, "every answer went out");
        Assert.True(double.IsFinite(vm.FiguresOfMerit[0].Value), "the server answered every request");
    }

    [Fact]
    public void A_four_CPU_guest_builds_with_four_jobs_within_a_quarter_of_native_on_four_CPUs()
    {
        var native = new WorkloadScenario { Workload = "kernel-build", Profile = "nehalem-x5570", Size = 4, HostCores = 4, Jobs = 4 };
        WorkloadRunResult bare = native.RunOnce(1);
        WorkloadScenario guest = native with { Preset = "type1", HostCores = null, Vcpus = "4" }; // the host's cores default to the guest's virtual CPUs
        WorkloadRunResult vm = guest.RunOnce(1);
        double Units(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "units").Value;
        Assert.True(Units(vm) >= 0.75 * Units(bare), $"{Units(vm):F1} units/s in the VM against {Units(bare):F1} natively");
        Assert.Equal(4, vm.FirstGuestCpus.Count);
        Assert.True(vm.Stat("vm0.kernel", "migrations") + vm.Stat("vm0.kernel", "reschedule_ipis") > 0, "the guest's SMP kernel spread the jobs");
    }

    [Fact]
    public void Four_such_VMs_on_the_same_CPUs_each_take_about_four_times_as_long_and_wait_as_steal_time()
    {
        // The contention acceptance, on 2 CPUs with 2-vCPU VMs (4 vCPUs on 4 Nehalem CPUs take
        // minutes; sweeps/kernel-build-contention.yaml runs that one).
        var alone = new WorkloadScenario { Workload = "kernel-build", Profile = "nehalem-x5570", Preset = "type1", Vcpus = "2", HostCores = 2, Size = 4, Jobs = 2 };
        WorkloadRunResult one = alone.RunOnce(1), four = (alone with { Guests = 4 }).RunOnce(1);
        Assert.Equal(4, four.Guests.Count);
        foreach (GuestResult g in four.Guests)
        {
            double ratio = g.Outcome.SimulatedSeconds / one.Outcome.SimulatedSeconds;
            Assert.InRange(ratio, 3.0, 4.5);
            Assert.True(g.CyclesByCategory[CycleCategory.Descheduled] > 0.3 * g.Outcome.CoreCycles, $"{g.Name} waited for its cores {g.CyclesByCategory[CycleCategory.Descheduled]:N0} of {g.Outcome.CoreCycles:N0} cycles");
        }
    }

    [Theory]
    [InlineData("credit")]
    [InlineData("cfs")]
    public void Twelve_guests_of_two_virtual_CPUs_on_four_cores_rerun_to_the_same_bytes(string scheduler)
    {
        // 24 virtual CPUs on 4 cores: shootdown IPIs wake and kick them, the scheduler preempts,
        // boosts and migrates them; every one of those decisions must come out the same.
        var many = new WorkloadScenario
        {
            Workload = "tlb-shootdown", Profile = "nehalem-x5570", Preset = "type1", Vcpus = "2", Guests = 12, HostCores = 4, Threads = 2, Size = 400, HostScheduler = scheduler,
        };
        WorkloadRunResult first = many.RunOnce(1), second = many.RunOnce(1);
        Assert.Equal(first.Run.Samples, second.Run.Samples);
        Assert.Equal(12, first.Guests.Count);
        Assert.All(first.Guests, g => Assert.True(g.Finished, $"{g.Name} did not finish"));
        Assert.True(first.Guests.Sum(g => g.CyclesByCategory[CycleCategory.Descheduled]) > 0, "the guests waited for their cores");
        Assert.True(first.Run.Samples.Where(x => x.Statistic == "vcpu_migrations").Sum(x => x.Value) > 0, "virtual CPUs moved between cores");
    }

    [Fact]
    public void Two_virtual_CPUs_on_one_core_take_turns_and_their_wait_is_steal_time()
    {
        WorkloadScenario s = new() { Workload = "kernel-build", Profile = "nehalem-x5570", Preset = "type1", Size = 2, Jobs = 2, Vcpus = "2" };
        WorkloadRunResult spread = s.RunOnce(1), shared = (s with { HostCores = 1 }).RunOnce(1);
        Assert.Equal(0, spread.CyclesByCategory[CycleCategory.Descheduled]);
        Assert.True(shared.CyclesByCategory[CycleCategory.Descheduled] > 0.2 * shared.Outcome.CoreCycles, "each virtual CPU waits while the other runs");
        Assert.True(shared.Outcome.SimulatedSeconds > 1.5 * spread.Outcome.SimulatedSeconds,
            $"{shared.Outcome.SimulatedSeconds * 1e3:F1} ms on one core against {spread.Outcome.SimulatedSeconds * 1e3:F1} on two");
    }
}
