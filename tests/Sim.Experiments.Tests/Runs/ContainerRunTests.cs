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
        Assert.True(r.FiguresOfMerit.Single().Value > native.FiguresOfMerit.Single().Value);
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
        var sim = new Sim.Engine.Simulator(1);
        LinuxKernel linux = null!;
        var machine = new Machine(sim, Nehalem, MachineConfiguration.Default with { Disk = DiskKind.None, Nic = false },
            m => linux = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
        Container container = linux.AddContainer(new ContainerConfiguration(MemoryLimitBytes: 64 * 4096));
        Lmbench workload = Lm("lat-pagefault"); // touches a fresh page per iteration
        var context = new WorkloadContext(machine.NewAddressSpace(), machine.Memory, sim.Random, 200);
        linux.StartTimer(WorkloadRun.TimerVector, (uint)(MachineConfiguration.Default.Timings.ApicTimerHz / WorkloadRun.TimerHz));
        linux.Start(workload.CreateProgram(context), workload.CreateImage(linux, context), container);
        sim.Run(Sim.Engine.Time.Tick.MaxValue);
        Assert.Equal(1, sim.Stats.Snapshot(sim.Now).Single(s => s.Path == "host.kernel.container" && s.Statistic == "oom_kills").Value);
        Assert.True(container.ChargedBytes <= 64 * 4096);
    }

    [Fact]
    public void Containers_share_the_kernel_and_take_no_hypervisor()
    {
        Assert.Equal(new VirtualizationAxes(CpuVirtualization.None, MmuVirtualization.Native, IoVirtualization.Native, Hosting.SharedKernel), OsLevel);
        Assert.Null(OsLevel.Problem(Nehalem));
        Assert.Contains("--cpu none", (OsLevel with { Cpu = CpuVirtualization.HardwareAssist }).Problem(Nehalem), StringComparison.Ordinal);
    }
}
