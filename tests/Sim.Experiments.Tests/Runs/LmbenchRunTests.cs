using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

public class LmbenchRunTests
{
    private static WorkloadRunResult Run(string name, long size) =>
        WorkloadRun.Run(HardwareProfiles.NehalemX5570, Lmbench.All.Single(l => l.Name == name), size, seed: 1);

    [Theory]
    [InlineData("lat-null", "syscalls", 101)]          // 100 getpid and the exit
    [InlineData("lat-fork", "forks", 50)]
    [InlineData("lat-ctx-0k", "context_switches", 102)] // 50 yields each way, the parent waiting, the child exiting
    [InlineData("lat-pagefault", "demand_zero_faults", 100)]
    [InlineData("lat-mmap", "demand_zero_faults", 25)]
    [InlineData("lat-openclose", "syscalls", 51)]      // 25 opens, 25 closes, the exit
    [InlineData("lat-nullio", "syscalls", 53)]         // two opens, 25 reads, 25 writes, the exit
    [InlineData("lat-sig-install", "syscalls", 26)]    // 25 rt_sigaction, the exit
    [InlineData("lat-stat", "syscalls", 26)]           // 25 stat, the exit
    [InlineData("lat-sig-catch", "signals_delivered", 25)]
    [InlineData("lat-fork-exec", "file_faults", 25)]   // each child execs and touches one text page
    public void Each_test_makes_the_kernel_do_what_it_measures(string name, string statistic, double expected)
    {
        long size = name switch { "lat-null" => 100, "lat-fork" => 50, "lat-ctx-0k" => 50, "lat-pagefault" => 100, _ => 25 };
        WorkloadRunResult r = Run(name, size);
        Assert.Equal(expected, r.Stat("host.kernel", statistic));
        Assert.True(r.FiguresOfMerit.Single().Value > 0);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void A_larger_working_set_makes_context_switches_slower() =>
        Assert.True(Run("lat-ctx-16k", 50).FiguresOfMerit.Single().Value > Run("lat-ctx-0k", 50).FiguresOfMerit.Single().Value);
}
