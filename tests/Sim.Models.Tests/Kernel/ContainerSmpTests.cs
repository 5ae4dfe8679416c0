using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Models.Tests.Kernel.SmpKernelTests;

namespace Sim.Models.Tests.Kernel;

/// <summary>Containers of one kernel on every CPU: cpusets, and CPU quotas counted over all CPUs.</summary>
public class ContainerSmpTests
{
    /// <summary>A CPU-bound process: <paramref name="blocks"/> blocks of 1,000 instructions, then exit.</summary>
    private static Script Busy(int blocks) => new(_ => [.. Enumerable.Repeat(Op.Alu(1_000), blocks), Call(SyscallNumber.Exit)]);

    [Fact]
    public void Containers_with_a_quota_of_one_CPU_are_pinned_each_to_its_own()
    {
        var rig = new Rig(4);
        for (int c = 0; c < 4; c++)
        {
            Container container = rig.Kernel.AddContainer(ContainerConfiguration.Default with { CpuQuota = 1 });
            Assert.Equal(1UL << c, container.AllowedCpus);
            rig.Kernel.Start(Busy(20_000), Image, container);
        }
        rig.Run();
        foreach (Core core in rig.Machine.Cores)
        {
            Assert.InRange(core.CyclesIn(CycleCategory.User), 20_000_000, 20_100_000); // one container's work on every CPU
        }
        Assert.Equal(0, rig.Stat("host.kernel", "migrations"));
    }

    [Fact]
    public void A_container_s_processes_run_only_on_its_cpuset()
    {
        var rig = new Rig(4);
        Container container = rig.Kernel.AddContainer(ContainerConfiguration.Default with { Cpuset = [2, 3] });
        for (int p = 0; p < 4; p++)
        {
            rig.Kernel.Start(Busy(5_000), Image, container);
        }
        rig.Run();
        Assert.Equal(0, rig.Machine.Cores[0].CyclesIn(CycleCategory.User));
        Assert.Equal(0, rig.Machine.Cores[1].CyclesIn(CycleCategory.User));
        Assert.InRange(rig.Machine.Cores[2].CyclesIn(CycleCategory.User) + rig.Machine.Cores[3].CyclesIn(CycleCategory.User), 20_000_000, 20_100_000);
        Assert.Throws<ArgumentException>(() => rig.Kernel.AddContainer(ContainerConfiguration.Default with { Cpuset = [4] }));
        Assert.Throws<ArgumentException>(() => rig.Kernel.AddContainer(ContainerConfiguration.Default with { CpuQuota = 5 }));
    }

    [Fact]
    public void A_quota_of_one_and_a_half_CPUs_is_counted_over_every_CPU_the_container_runs_on()
    {
        var rig = new Rig(4);
        Container container = rig.Kernel.AddContainer(ContainerConfiguration.Default with { CpuQuota = 1.5, Cpuset = [0, 1, 2, 3] });
        for (int p = 0; p < 4; p++)
        {
            // 10^9 instructions, about 341 ms at 2.93 GHz: 1.37 s of work, 0.34 s on four free CPUs.
            rig.Kernel.Start(new Script(_ => [.. Enumerable.Repeat(Op.Alu(100_000), 10_000), Call(SyscallNumber.Exit)]), Image, container);
        }
        rig.Run();
        double work = rig.Machine.Cores.Sum(c => (double)c.CyclesIn(CycleCategory.User)) / 2.93e9;
        double elapsed = rig.Kernel.WorkEnded!.Time.TotalSeconds, period = LinuxKernel.CpuPeriodMicroseconds / 1e6;
        // 1.5 CPUs a period: the work takes work / 1.5 seconds, give or take the last period, which it may not fill.
        Assert.InRange(elapsed, (work / 1.5) - period, (work / 1.5) + (period / 2));
        Assert.True(rig.Stat("host.kernel.container", "throttled_periods") >= 8);
    }
}

/// <summary>CPU shares (cpu.shares): the CPU time of the processes that compete for a CPU goes as their containers' weights.</summary>
public class ContainerSharesTests
{
    private const double Tick = 0.004; // the rig's 250 Hz tick

    /// <summary>A CPU-bound process of about <paramref name="millis"/> ms (blocks of 100,000 instructions, about 34 µs each), then exit.</summary>
    private static Script Busy(int millis) => new(_ => [.. Enumerable.Repeat(Op.Alu(100_000), millis * 1000 / 34), Call(SyscallNumber.Exit)]);

    /// <summary>
    /// Two containers' CPU-bound processes on one CPU, weighted 4096 and 1024: after the first
    /// round (each process starts with a full slice), the heavier gets 25 ticks to the lighter's
    /// 6, so by the time the heavier ends the lighter has had its first slice and 6 ticks for each
    /// of the heavier's later slices but the last.
    /// </summary>
    [Fact]
    public void Two_containers_share_a_CPU_in_proportion_to_their_weights()
    {
        var rig = new Rig(1);
        var weighted = ContainerConfiguration.Default with { Shares = [4096, 1024] };
        Container heavy = rig.Kernel.AddContainer(weighted), light = rig.Kernel.AddContainer(weighted);
        Assert.Equal((4096, 1024), (heavy.Shares, light.Shares));
        rig.Kernel.Start(Busy(450), Image, heavy);
        rig.Kernel.Start(Busy(450), Image, light);
        rig.Run();
        double slice = LinuxKernel.SliceTicks * Tick;
        double heavyEnd = heavy.Ended!.Time.TotalSeconds, work = 0.450;
        double lightShare = heavyEnd - work; // what the lighter ran before the heavier ended
        Assert.InRange(lightShare, slice + (3 * 6 * Tick) - (2 * Tick), slice + (3 * 6 * Tick) + (2 * Tick));
        Assert.True(light.Ended!.Time.TotalSeconds > heavyEnd + 0.2, "the lighter finished its work after");
    }

    /// <summary>
    /// A container's weight is divided among its runnable processes, as CFS group scheduling
    /// divides it: one container's three CPU-bound processes together get about the CPU that
    /// another container's single process gets (with equal weights), not three times as much.
    /// </summary>
    [Fact]
    public void A_container_s_weight_is_divided_among_its_processes()
    {
        var rig = new Rig(1);
        Container three = rig.Kernel.AddContainer(ContainerConfiguration.Default), one = rig.Kernel.AddContainer(ContainerConfiguration.Default);
        for (int p = 0; p < 3; p++)
        {
            rig.Kernel.Start(Busy(300), Image, three);
        }
        rig.Kernel.Start(Busy(1500), Image, one);
        rig.Run();
        // First round: each process runs its 100 ms slice; then 8 ticks for each of the three to the one's 25,
        // so the three's remaining 600 ms take about twice that (three quarters of the CPU would take 800 ms).
        double threeEnd = three.Ended!.Time.TotalSeconds;
        Assert.InRange(threeEnd, 0.4 + (2 * 0.6) - 0.1, 0.4 + (2 * 0.6) + 0.1);
    }
}
