using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Tests.Runs;

/// <summary>The synthetic kernels as processes of the Linux-like kernel: what containers run, timed as the benchmarks time themselves.</summary>
public class LinuxProcessRunTests
{
    private static double Rate(WorkloadScenario s) => s.RunOnce(1).FiguresOfMerit[0].Value;

    [Theory]
    [InlineData("gups", 20_000)]
    [InlineData("stream", 20_000)]
    public void As_a_process_the_kernel_runs_as_fast_as_bare_and_a_container_adds_nothing_to_its_timed_loop(string kernel, long size)
    {
        var s = new WorkloadScenario { Workload = kernel, Profile = "nehalem-x5570", Size = size };
        double bare = Rate(s);
        double process = Rate(s with { Workload = kernel + "-linux" });
        double container = Rate(s with { Workload = kernel + "-linux", Preset = "oslevel" });
        Assert.InRange(process / bare, 0.97, 1.03); // the same operations on the same machine; the tick may fall inside the loop
        Assert.InRange(container / process, 0.99, 1.01); // no system call in the loop: namespaces and cgroups never run
    }

    [Fact]
    public void The_process_s_rate_leaves_its_start_and_exit_out()
    {
        var s = new WorkloadScenario { Workload = "gups-linux", Profile = "nehalem-x5570", Size = 20_000 };
        WorkloadRunResult r = s.RunOnce(1);
        double wholeRun = 20_000 / r.Outcome.SimulatedSeconds / 1e9;
        Assert.True(r.FiguresOfMerit[0].Value > wholeRun, "exit frees the 64 MiB table after the timed loop");
        Assert.Contains("as a process of the Linux-like kernel", WorkloadCatalog.Get("gups-linux").Workload.Description, StringComparison.Ordinal);
    }
}
