using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>The unchanged kernel and workloads in a virtual machine of the bare-metal VT-x hypervisor with nested paging and emulated devices.</summary>
public class Type1RunTests
{
    private static readonly HardwareProfile Nehalem = HardwareProfiles.NehalemX5570;
    private static readonly VirtualizationAxes Type1 = VirtualizationAxes.ForPreset("type1", Nehalem);

    private static WorkloadRunResult Run(IWorkload workload, long size, VirtualizationAxes? axes = null) =>
        WorkloadRun.Run(Nehalem, workload, size, seed: 1, axes: axes ?? Type1);

    private static double Exits(WorkloadRunResult r, ExitReason reason) => r.Stat("host.cpu0", "vm_exits::" + reason);

    [Fact]
    public void Type1_on_a_profile_with_EPT_is_nested_paging_and_emulated_io()
    {
        Assert.Equal(new VirtualizationAxes(CpuVirtualization.HardwareAssist, MmuVirtualization.Nested, IoVirtualization.Emulated, Hosting.BareMetal), Type1);
        Assert.Equal(MmuVirtualization.Shadow, VirtualizationAxes.ForPreset("type1", HardwareProfiles.Pentium4672).Mmu);
        var e = Assert.Throws<ArgumentException>(() => WorkloadRun.Run(HardwareProfiles.Pentium4672, Nanobenchmark.Get("syscall"), 10, 1,
            axes: Type1));
        Assert.Contains("nested paging needs EPT", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("syscall")]
    [InlineData("cr8wr")]   // the TPR shadow
    [InlineData("callret")]
    [InlineData("pgfault")] // the guest's own page faults go to the guest under EPT
    [InlineData("divzero")]
    [InlineData("ptemod")]  // and so do its page-table writes
    public void Under_nested_paging_these_nanobenchmarks_make_no_exit(string name)
    {
        WorkloadRunResult r = Run(Nanobenchmark.Get(name), 200);
        Assert.Empty(r.Exits);
        Assert.Equal(0, r.CyclesByCategory[CycleCategory.VmTransition]);
    }

    [Fact]
    public void Each_IN_exits_once_as_an_IO_instruction_and_its_device_model_runs()
    {
        WorkloadRunResult r = Run(Nanobenchmark.Get("in"), 200);
        (ExitReason reason, long count, long cycles) = Assert.Single(r.Exits);
        Assert.Equal((ExitReason.IoInstruction, 200L), (reason, count));
        VmxTransitionCosts vmx = Nehalem.Vmx!;
        Assert.Equal(200L * (vmx.VmExitCycles + vmx.VmEntryCycles), r.CyclesByCategory[CycleCategory.VmTransition]);
        Assert.True(r.CyclesByCategory[CycleCategory.DeviceEmulation] > 0);
        Assert.True(r.CyclesByCategory[CycleCategory.Hypervisor] > 0);
        // The exit cycles are the transitions and the whole handler, nothing else: what the stalls
        // and walks add beyond native's is in the exits, but for what happens once a run (the
        // loop's code fetched at its start, its page walked in two dimensions under EPT).
        Assert.Equal(Residual(200), Residual(400));

        static long Residual(int iterations)
        {
            WorkloadRunResult r = Run(Nanobenchmark.Get("in"), iterations), n = WorkloadRun.Run(Nehalem, Nanobenchmark.Get("in"), iterations, seed: 1);
            long Stalls(WorkloadRunResult w) => w.CyclesByCategory[CycleCategory.MemoryStall] + w.CyclesByCategory[CycleCategory.PageWalk];
            long handled = r.CyclesByCategory[CycleCategory.VmTransition] + r.CyclesByCategory[CycleCategory.Hypervisor] + r.CyclesByCategory[CycleCategory.DeviceEmulation];
            return Assert.Single(r.Exits).Cycles - (handled + Stalls(r) - Stalls(n));
        }
    }

    [Fact]
    public void Every_register_access_of_the_disk_driver_exits_and_every_interrupt_is_injected_and_acknowledged()
    {
        WorkloadRunResult r = Run(new FioRandRead(), 50);
        Assert.Equal(r.Stat("vm0.bus.vm0.disk0", "accesses"), Exits(r, ExitReason.EptViolation)); // AHCI registers: MMIO through unmapped EPT pages
        Assert.Equal(r.Stat("vm0.vcpu0.apic", "eois"), Exits(r, ExitReason.ApicAccess));          // the EOI write to the APIC-access page
        Assert.Equal(r.Stat("vm0.vcpu0.apic", "eois"), r.Stat("host.hypervisor", "injected_interrupts"));
        Assert.Equal(50, r.Stat("vm0.kernel", "block_latency::count"));
        Assert.True(Exits(r, ExitReason.EptViolation) >= 50 * 2); // at least the command issue's two writes per request
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void The_virtual_machine_is_slower_than_native_by_what_its_exits_and_walks_cost()
    {
        WorkloadRunResult native = Run(new FioRandRead(), 50, VirtualizationAxes.Native);
        WorkloadRunResult type1 = Run(new FioRandRead(), 50);
        double Latency(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "mean_latency").Value;
        Assert.True(Latency(type1) > Latency(native));
        WorkloadRunResult forkNative = Run(new ForkWait(), 20, VirtualizationAxes.Native);
        WorkloadRunResult forkType1 = Run(new ForkWait(), 20);
        Assert.True(forkType1.CyclesByCategory[CycleCategory.PageWalk] > forkNative.CyclesByCategory[CycleCategory.PageWalk]); // two-dimensional walks
        Assert.True(forkType1.Stat("host.cpu0.tlb", "walk_references") > forkNative.Stat("host.cpu0.tlb", "walk_references"));
    }

    [Fact]
    public void An_idle_guest_exits_on_HLT_and_each_timer_tick_wakes_it_with_an_injected_interrupt()
    {
        WorkloadRunResult r = Run(new Idle(), 20); // 20 ms: five 250 Hz ticks
        double ticks = r.Stat("vm0.vcpu0.apic", "timer_interrupts");
        Assert.True(ticks >= 4);
        Assert.Equal(ticks, Exits(r, ExitReason.ApicAccess));
        Assert.InRange(Exits(r, ExitReason.Hlt), ticks, ticks + 2);
        Assert.True(r.CyclesByCategory[CycleCategory.Idle] > 0.9 * r.Outcome.CoreCycles);
    }

    [Fact]
    public void A_type1_run_is_byte_identical_when_repeated()
    {
        WorkloadRunResult a = Run(new FioRandRead(), 20);
        WorkloadRunResult b = Run(new FioRandRead(), 20);
        Assert.Equal(a.Run.Samples, b.Run.Samples);
        Assert.Equal(a.Run.EventsProcessed, b.Run.EventsProcessed);
    }
}

/// <summary>APIC virtualization and posted interrupts, on the profile that has them.</summary>
public class ApicVirtualizationRunTests
{
    private static WorkloadRunResult Run(HardwareProfile profile, IWorkload workload, long size) =>
        WorkloadRun.Run(profile, workload, size, seed: 1, axes: VirtualizationAxes.ForPreset("type1", profile));

    private static double Exits(WorkloadRunResult r, ExitReason reason) => r.Stat("host.cpu0", "vm_exits::" + reason);

    [Fact]
    public void With_APICv_and_posted_interrupts_a_running_guest_takes_its_interrupts_and_EOIs_without_exits()
    {
        WorkloadRunResult nehalem = Run(HardwareProfiles.NehalemX5570, new ForkWait(), 300);
        WorkloadRunResult skylake = Run(HardwareProfiles.SkylakeSp8180, new ForkWait(), 300);
        Assert.True(Exits(nehalem, ExitReason.ExternalInterrupt) > 0);
        Assert.True(Exits(nehalem, ExitReason.ApicAccess) > 0);
        Assert.Equal(0, Exits(skylake, ExitReason.ExternalInterrupt));
        Assert.Equal(0, Exits(skylake, ExitReason.ApicAccess));
        Assert.Equal(0, skylake.Stat("host.hypervisor", "kicks"));
        // The timer's interrupts still reach the guest: each one acknowledged on the virtual APIC.
        Assert.Equal(skylake.Stat("vm0.vcpu0.apic", "timer_interrupts"), skylake.Stat("vm0.vcpu0.apic", "eois"));
        Assert.True(skylake.Stat("vm0.vcpu0.apic", "timer_interrupts") > 0);
    }

    [Fact]
    public void A_blocked_virtual_CPU_is_still_woken_by_a_kick_and_its_interrupt_injected_on_entry()
    {
        // The assigned disk's interrupt reaches a halted vCPU from the hardware, so its core is kicked (an emulated disk's
        // completion comes from the I/O thread on the vCPU's own core, which resumes the vCPU without a kick).
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.SkylakeSp8180, new FioRandRead(), 20, seed: 1,
            axes: VirtualizationAxes.ForPreset("type1", HardwareProfiles.SkylakeSp8180) with { Io = IoVirtualization.Passthrough });
        Assert.True(Exits(r, ExitReason.Hlt) > 0);
        Assert.True(r.Stat("host.hypervisor", "kicks") > 0);
        Assert.Equal(0, Exits(r, ExitReason.ApicAccess));
    }
}
