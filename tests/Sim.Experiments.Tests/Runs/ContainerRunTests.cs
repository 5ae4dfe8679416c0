using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Platform;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>OS-level virtualization: the workload in a container of the one kernel.</summary>
public class ContainerRunTests
{
    private static readonly HardwareProfile Nehalem = HardwareProfiles.NehalemX5570;
    private static readonly VirtualizationAxes OsLevel = VirtualizationAxes.ForPreset("oslevel", Nehalem);

    private static WorkloadRunResult Run(IWorkload workload, long size, VirtualizationAxes? axes = null) =>
        WorkloadRun.Run(Nehalem, workload, size, seed: 1, axes: axes ?? OsLevel);

    private static Lmbench Lm(string name) => Lmbench.All.Single(l => l.Name == name);

    [Fact]
    public void A_container_runs_natively_with_no_exit_and_its_namespace_and_cgroup_work_on_the_paths_that_do_it()
    {
        WorkloadRunResult r = Run(Lm("lat-null"), 100);
        Assert.Empty(r.Exits);
        Assert.Equal(0, r.CyclesByCategory[CycleCategory.Hypervisor]);
        // getpid translates its pid at the one pid-namespace level; the exit's and the tick's cgroup work come on top.
        Assert.Equal(100, r.Stat("host.kernel.container", "namespace_lookups"));
        WorkloadRunResult native = Run(Lm("lat-null"), 100, VirtualizationAxes.Native);
        Assert.True(r.FiguresOfMerit[0].Value > native.FiguresOfMerit[0].Value);
    }

    [Fact]
    public void Every_user_page_is_charged_to_the_memory_cgroup_and_uncharged_when_freed()
    {
        WorkloadRunResult r = Run(Lm("lat-pagefault"), 50);
        Assert.True(r.Stat("host.kernel.container", "cgroup_charges") >= 50);
        WorkloadRunResult fork = Run(new ForkWait(), 10);
        Assert.True(fork.Stat("host.kernel.container", "namespace_lookups") >= 10 * 2); // fork and wait4 translate pids
        Assert.Equal(fork.Outcome.CoreCycles, (ulong)fork.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void A_container_over_its_memory_limit_loses_the_process_to_the_OOM_killer()
    {
        var rig = new KernelRig(Nehalem);
        Container container = rig.Linux.AddContainer(new ContainerConfiguration(MemoryLimitBytes: 64 * 4096));
        rig.Start(Lm("lat-pagefault"), 200, container, "ct0."); // touches a fresh page per iteration
        Assert.Equal(1, rig.RunAndCount("oom_kills"));
        Assert.True(container.ChargedBytes <= 64 * 4096);
    }

    [Fact]
    public void A_container_reading_past_its_limit_reclaims_its_page_cache_and_the_report_shows_its_memory_in_parts()
    {
        var s = new Sim.Experiments.Scenarios.WorkloadScenario { Workload = "lat-file-read", Size = 3_000, Profile = "nehalem-x5570", Preset = "oslevel", ContainerMemoryMiB = 8 };
        WorkloadRunResult r = s.RunOnce(1);
        Assert.Equal(0, r.Stat("host.kernel.container", "oom_kills"));
        Assert.True(r.Stat("host.kernel.reclaim", "freed") >= 3_000 - (8 * 256), "what did not fit under the limit was reclaimed");
        ContainerHostMemory m = Assert.Single(ContainerHostMemory.All(r.Run.Samples));
        Assert.Equal("ct0", m.Container);
        Assert.InRange(m.PeakCharged, 7 << 20, 8 << 20);
        Assert.True(m.PeakCache > 0.9 * m.PeakCharged, "a reader's charge is its page cache");
        Assert.Equal(m.PeakCharged, r.GuestMemoryBytes); // what density counts for a container
        Assert.Contains("| ct0 | 8.00 |", WorkloadRunReport.ToMarkdown([r], "lat-file-read"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_CPU_quota_throttles_the_container_to_its_share_of_each_period()
    {
        WorkloadRunResult free = Run(Lm("lat-null"), 1_000_000);
        WorkloadRunResult half = WorkloadRun.Run(Nehalem, Lm("lat-null"), 1_000_000, seed: 1, axes: OsLevel,
            containers: ContainerConfiguration.Default with { CpuQuota = 0.5 });
        double busy = free.Outcome.SimulatedSeconds; // about 72 ms of CPU
        // 50 ms of each 100 ms period (rounded up to the 4 ms tick that samples it): the work takes two periods and part of a third.
        Assert.InRange(half.Outcome.SimulatedSeconds, busy * 1.6, busy * 2.2);
        Assert.True(half.Stat("host.kernel.container", "throttled_periods") >= 1);
        Assert.True(half.CyclesByCategory[CycleCategory.Idle] > 0, "the throttled container's time is the core's idle time");
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContainerConfiguration(CpuQuota: 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContainerConfiguration(CpuQuota: 65).Validate()); // more CPUs than the kernel can have
    }

    [Fact]
    public void A_throttled_container_leaves_the_core_to_the_others()
    {
        var rig = new KernelRig(Nehalem);
        Container capped = rig.Linux.AddContainer(ContainerConfiguration.Default with { CpuQuota = 0.25 });
        Container free = rig.Linux.AddContainer(ContainerConfiguration.Default);
        rig.Start(Lm("lat-null"), 2_000_000, capped, "ct0.");
        rig.Start(Lm("lat-null"), 2_000_000, free, "ct1.");
        Assert.True(rig.RunAndCount("throttled_periods") > 0);
        // The unlimited container, second in the queue, finishes first: it runs whenever the capped one is throttled.
        Assert.True(free.Ended!.Time < capped.Ended!.Time);
        Assert.Equal(0, free.Ended.IdleCycles); // while it had work the core never idled, though the other was throttled
        Assert.True(rig.Machine.BootCore.CyclesIn(CycleCategory.Idle) > 0);  // afterwards the capped one alone leaves it idle
    }

    [Fact]
    public void Containers_share_the_kernel_and_take_no_hypervisor()
    {
        Assert.Equal(new VirtualizationAxes(CpuVirtualization.None, MmuVirtualization.Native, IoVirtualization.Native, Hosting.SharedKernel), OsLevel);
        Assert.Null(OsLevel.Problem(Nehalem));
        Assert.Contains("--cpu none", (OsLevel with { Cpu = CpuVirtualization.HardwareAssist }).Problem(Nehalem), StringComparison.Ordinal);
    }
}
