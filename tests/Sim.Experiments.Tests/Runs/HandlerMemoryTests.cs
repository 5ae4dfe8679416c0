using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// Exit handlers look things up in the monitor's memory as KVM's do (the memory slots, the
/// in-kernel I/O bus, the shadow-page hash) and keep the exit's information in the virtual CPU's
/// structure: loads and stores on the machine, so that their cost comes from the caches.
/// </summary>
public class HandlerMemoryTests
{
    private static readonly HardwareProfile Nehalem = HardwareProfiles.NehalemX5570;
    private static readonly HardwareProfile P4 = HardwareProfiles.Pentium4672;

    private static WorkloadRunResult Run(HardwareProfile profile, string benchmark, long size, VirtualizationAxes axes) =>
        WorkloadRun.Run(profile, Nanobenchmark.Get(benchmark), size, seed: 1, axes: axes);

    private static double PerIteration(HardwareProfile profile, string benchmark, VirtualizationAxes axes, string path, string statistic)
    {
        WorkloadRunResult small = Run(profile, benchmark, 100, axes), large = Run(profile, benchmark, 200, axes);
        return (large.Stat(path, statistic) - small.Stat(path, statistic)) / 100;
    }

    [Fact]
    public void A_port_exit_looks_its_device_up_on_the_io_bus_and_no_memory_slot()
    {
        VirtualizationAxes type1 = VirtualizationAxes.ForPreset("type1", Nehalem);
        Assert.Equal(1, PerIteration(Nehalem, "in", type1, "host.hypervisor", "handler_lookups::IoBus"));
        Assert.Equal(0, PerIteration(Nehalem, "in", type1, "host.hypervisor", "handler_lookups::MemorySlot"));
    }

    [Fact]
    public void A_shadow_page_fault_reads_each_guest_entry_through_its_memory_slot_and_looks_shadow_pages_up_in_the_hash()
    {
        VirtualizationAxes type1 = VirtualizationAxes.ForPreset("type1", P4);
        // Two exits (the true fault, the hidden fault), each walking the guest's four levels, and
        // the hidden fault's prefetch reading the entry's group: nine guest entries read.
        Assert.Equal(9, PerIteration(P4, "pgfault", type1, "host.hypervisor", "handler_lookups::MemorySlot"));
        Assert.Equal(0, PerIteration(P4, "pgfault", type1, "host.hypervisor", "handler_lookups::ShadowHash")); // the leaf table's shadow is linked already: no kvm_mmu_get_page
        VirtualizationAxes traced = VirtualizationAxes.ForPreset("type2", P4);
        Assert.Equal(1, PerIteration(P4, "ptemod", traced, "host.hypervisor", "handler_lookups::ShadowHash")); // kvm_mmu_pte_write's walk of the written frame's shadow pages
    }

    [Fact]
    public void The_first_exit_finds_the_handlers_structures_cold_and_later_ones_warm()
    {
        VirtualizationAxes type1 = VirtualizationAxes.ForPreset("type1", Nehalem);
        double Misses(string benchmark, long size) => Run(Nehalem, benchmark, size, type1).Stat("host.cpu0.l1d", "misses");
        double first = Misses("in", 1) - Misses("cr8wr", 1); // the same boot, then an IN that exits or a MOV CR8 that does not (TPR shadow)
        double later = Misses("in", 202) - Misses("in", 201);
        Assert.True(first > 5, $"the first IN's exit misses {first} times in the L1D");
        Assert.Equal(0, later);
    }

    [Fact]
    public void Scheduling_and_virtual_timers_touch_each_cores_run_queue_and_timer_queue()
    {
        // Two CPU-bound guests taking turns on one core: every tick, switch, block and wake-up locks
        // and updates the core's run queue, and every expiry of a guest's virtual timer takes it
        // out of the core's timer queue (and, periodic, puts it back).
        VirtualizationAxes type1 = VirtualizationAxes.ForPreset("type1", Nehalem);
        IWorkload getpid = WorkloadCatalog.Get("lat-null").Workload;
        WorkloadRunResult shared = WorkloadRun.Run(Nehalem, getpid, 200_000, seed: 1, axes: type1, consolidation: new Consolidation(2, 1));
        WorkloadRunResult alone = WorkloadRun.Run(Nehalem, getpid, 200_000, seed: 1, axes: type1);
        double switches = shared.Stat("host.hypervisor", "vcpu_switches"), runQueue = shared.Stat("host.hypervisor", "handler_lookups::RunQueue");
        Assert.True(switches >= 1, $"{switches} switches");
        Assert.True(runQueue > switches, $"{runQueue} run-queue lookups for {switches} switches and the ticks");
        Assert.True(shared.Stat("host.hypervisor", "handler_lookups::TimerQueue") > 0);
        Assert.True(alone.Stat("host.hypervisor", "handler_lookups::RunQueue") < runQueue / 10, "a guest alone on its core has no tick and no switches");
    }
}
