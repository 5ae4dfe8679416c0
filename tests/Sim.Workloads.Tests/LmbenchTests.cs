namespace Sim.Workloads.Tests;

/// <summary>The lmbench-style tests are defined here; that they run and what they count is tested where the kernel runs them (Sim.Experiments.Tests).</summary>
public class LmbenchTests
{
    [Fact]
    public void The_tests_that_the_kernel_can_run_are_listed() =>
        Assert.Equal(
            ["lat-null", "lat-fork", "lat-ctx-0k", "lat-ctx-16k", "lat-pagefault", "lat-mmap", "lat-nullio", "lat-stat", "lat-sig-install", "lat-sig-catch", "lat-openclose", "lat-fork-exec", "lat-file-read"],
            Sim.Workloads.Processes.Lmbench.All.Select(l => l.Name));
}
