using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Hosted (type 2) monitors: a device exit takes a world switch to the host, the monitor process's device model, and host system calls for real I/O.</summary>
public class HostedRunTests
{
    private static readonly HardwareProfile Nehalem = HardwareProfiles.NehalemX5570;

    private static WorkloadRunResult Run(HardwareProfile profile, string preset, IWorkload workload, long size) =>
        WorkloadRun.Run(profile, workload, size, seed: 1, axes: VirtualizationAxes.ForPreset(preset, profile));

    [Fact]
    public void Type2_is_type1_with_the_device_models_in_a_host_process()
    {
        Assert.Equal(Hosting.Hosted, VirtualizationAxes.ForPreset("type2", Nehalem).Hosting);
        Assert.Equal(VirtualizationAxes.ForPreset("type1", Nehalem) with { Hosting = Hosting.Hosted }, VirtualizationAxes.ForPreset("type2", Nehalem));
    }

    [Fact]
    public void Host_processes_take_the_core_from_a_busy_guest_and_the_idle_time_of_a_waiting_one()
    {
        HardwareProfile core2 = HardwareProfiles.Core2Merom;
        VirtualizationAxes type2 = VirtualizationAxes.ForPreset("type2", core2);
        IWorkload busy = WorkloadCatalog.Get("lat-null").Workload; // about 65 ms of CPU at this size
        WorkloadRunResult alone = WorkloadRun.Run(core2, busy, 1_000_000, seed: 1, axes: type2);
        WorkloadRunResult loaded = WorkloadRun.Run(core2, busy, 1_000_000, seed: 1, axes: type2, consolidation: new Consolidation(HostProcesses: 1));
        Assert.InRange(loaded.Outcome.SimulatedSeconds / alone.Outcome.SimulatedSeconds, 1.8, 2.4);
        Assert.InRange((double)loaded.CyclesByCategory[CycleCategory.Descheduled] / loaded.Outcome.CoreCycles, 0.4, 0.6);
        Assert.True(loaded.Stat("host.process0", "instructions") > 0);
        // A guest that mostly waits for its disk loses almost nothing: the host process runs in its
        // idle time. Under credit each wake-up is boosted and preempts at once. Under CFS (type2's
        // default) the first wake-ups do not preempt the host process until it has run past the
        // wakeup granularity: a slice or so lost at the start, then every wake-up preempts. Each read's completion also runs
        // in the monitor's process on that core before the virtual CPU is woken (since 2026-12-07), which costs the loaded run more.
        double Iops(int reads, int hostProcesses, HostScheduler scheduler) => WorkloadRun.Run(core2, new FioRandRead(), reads, seed: 1, axes: type2,
            parameters: new MonitorParameters(HostScheduler: scheduler), consolidation: new Consolidation(HostProcesses: hostProcesses)).FiguresOfMerit[0].Value;
        Assert.InRange(Iops(100, 1, HostScheduler.Credit) / Iops(100, 0, HostScheduler.Credit), 0.95, 1.0);
        Assert.InRange(Iops(400, 1, HostScheduler.Cfs) / Iops(400, 0, HostScheduler.Cfs), 0.8, 0.95);
        Assert.Contains("hosted VT-x hypervisor only", WorkloadRun.Problem(core2, busy, VirtualizationAxes.ForPreset("type1", core2), new Consolidation(HostProcesses: 1)),
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_IO_exit_that_needs_nothing_of_the_host_stays_in_the_monitor()
    {
        WorkloadRunResult bare = Run(Nehalem, "type1", Nanobenchmark.Get("in"), 200);
        WorkloadRunResult hosted = Run(Nehalem, "type2", Nanobenchmark.Get("in"), 200);
        Assert.Equal(bare.Exits.Single().Count, hosted.Exits.Single().Count); // the same exits
        // A read of port 0x80 sets no real I/O going: the hosted monitor emulates it in its kernel part, with no world switch,
        // where the KVM-like one returns to its user-space model (QEMU's ioport80) for each.
        Assert.Equal(0, hosted.CyclesByCategory[CycleCategory.WorldSwitch]);
        Assert.Equal(0, hosted.Stat("host.hypervisor", "user_exits"));
        Assert.Equal(bare.Exits.Single().Count, bare.Stat("host.hypervisor", "user_exits"));
        Assert.True(hosted.Outcome.Instructions < bare.Outcome.Instructions);
        Assert.Equal(0, hosted.Stat("host.hypervisor", "host_trips"));
        Assert.Equal(0, hosted.Stat("host.hypervisor", "host_io_syscalls"));
    }

    [Fact]
    public void Disk_commands_become_host_system_calls_and_the_APIC_stays_in_the_kernel()
    {
        WorkloadRunResult r = Run(Nehalem, "type2", new FioRandRead(), 20);
        double exits = r.Stat("host.cpu0", "vm_exits::EptViolation");
        Assert.True(exits > 0);
        double syscalls = r.Stat("host.hypervisor", "host_io_syscalls");
        Assert.InRange(syscalls, 20, exits / 3); // a command's, not its register writes' or the status reads'
        // At queue depth 1 each PxCI write issues one command: one trip through the host, with its world switch each way, per command.
        Assert.Equal(syscalls, r.Stat("host.hypervisor", "host_trips"));
        HypervisorCosts c = HypervisorCosts.Default;
        long perTrip = (2 * (c[HypervisorRoutine.WorldSwitch] + 8 + 32)) + (2 * c[HypervisorRoutine.HostIoctl]) + 1 + c[HypervisorRoutine.UserDeviceDispatch];
        Assert.True(r.CyclesByCategory[CycleCategory.WorldSwitch] >= syscalls * perTrip / 2); // at least half an instruction a cycle of the switches' code
        Assert.True(r.CyclesByCategory[CycleCategory.WorldSwitch] > 0);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
        WorkloadRunResult bare = Run(Nehalem, "type1", new FioRandRead(), 20);
        // The KVM-like one takes no world switch but returns to user space for every AHCI register access, not once a command.
        Assert.Equal(0, bare.CyclesByCategory[CycleCategory.WorldSwitch]);
        Assert.True(bare.Stat("host.hypervisor", "user_exits") >= 4 * syscalls);
        Assert.Equal(bare.Stat("host.cpu0", "vm_exits::ApicAccess"), r.Stat("host.cpu0", "vm_exits::ApicAccess"));
    }

    [Theory]
    [InlineData(CpuVirtualization.BinaryTranslation)]
    [InlineData(CpuVirtualization.HardwareAssist)]
    public void Adams_and_Agesens_hosted_monitors_run_on_the_Pentium_4(CpuVirtualization cpu)
    {
        var axes = VirtualizationAxes.Resolve("native", HardwareProfiles.Pentium4672, cpu, MmuVirtualization.Shadow, null, Hosting.Hosted);
        Assert.Equal(new VirtualizationAxes(cpu, MmuVirtualization.Shadow, IoVirtualization.Emulated, Hosting.Hosted), axes);
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.Pentium4672, new ForkWait(), 10, seed: 1, axes: axes);
        Assert.Equal(10, r.Stat("vm0.kernel", "forks"));
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }
}
