using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

public class LmbenchRunTests
{
    private static WorkloadRunResult Run(string name, long size) =>
        WorkloadRun.Run(HardwareProfiles.NehalemX5570, Lmbench.All.Single(l => l.Name == name), size, seed: 1);

    /// <summary>The clock readings of a run of 25 operations or more: the cold one's two, and 11 repetitions' two each.</summary>
    private const int ClockReadings = 2 + (2 * 11);

    [Theory]
    [InlineData("lat-null", "syscalls", 101 + ClockReadings)]          // 100 getpid and the exit
    [InlineData("lat-fork", "forks", 50)]
    [InlineData("lat-ctx-0k", "context_switches", 102)] // 50 yields each way, the parent waiting, the child exiting
    [InlineData("lat-pagefault", "demand_zero_faults", 100)]
    [InlineData("lat-mmap", "demand_zero_faults", 25)]
    [InlineData("lat-openclose", "syscalls", 51 + ClockReadings)]      // 25 opens, 25 closes, the exit
    [InlineData("lat-nullio", "syscalls", 53 + ClockReadings)]         // two opens, 25 reads, 25 writes, the exit
    [InlineData("lat-sig-install", "syscalls", 26 + ClockReadings)]    // 25 rt_sigaction, the exit
    [InlineData("lat-stat", "syscalls", 26 + ClockReadings)]           // 25 stat, the exit
    [InlineData("lat-sig-catch", "signals_delivered", 25)]
    [InlineData("lat-fork-exec", "file_faults", 25)]   // each child execs and touches one text page
    public void Each_test_makes_the_kernel_do_what_it_measures(string name, string statistic, double expected)
    {
        long size = name switch { "lat-null" => 100, "lat-fork" => 50, "lat-ctx-0k" => 50, "lat-pagefault" => 100, _ => 25 };
        WorkloadRunResult r = Run(name, size);
        Assert.Equal(expected, r.Stat("host.kernel", statistic));
        Assert.True(r.FiguresOfMerit[0].Value > 0);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void A_larger_working_set_makes_context_switches_slower() =>
        Assert.True(Run("lat-ctx-16k", 50).FiguresOfMerit[0].Value > Run("lat-ctx-0k", 50).FiguresOfMerit[0].Value);

    [Fact]
    public void The_latency_is_the_steady_state_whatever_the_size_and_the_first_operation_is_reported_on_its_own()
    {
        // Under binary translation the first getpid translates the kernel's code on its way: its
        // cold latency is many times the steady one, which the repetitions after the warm-up time.
        VirtualizationAxes bt = new(CpuVirtualization.BinaryTranslation, MmuVirtualization.Shadow, IoVirtualization.Emulated, Hosting.BareMetal);
        double Figure(WorkloadRunResult r, string name) => r.FiguresOfMerit.Single(f => f.Name == name).Value;
        WorkloadRunResult small = WorkloadRun.Run(HardwareProfiles.Pentium4672, Lmbench.All.Single(l => l.Name == "lat-null"), 100, seed: 1, axes: bt);
        WorkloadRunResult large = WorkloadRun.Run(HardwareProfiles.Pentium4672, Lmbench.All.Single(l => l.Name == "lat-null"), 400, seed: 1, axes: bt);
        Assert.True(Figure(small, "cold_latency") > 10 * Figure(small, "latency"), $"cold {Figure(small, "cold_latency")} us against {Figure(small, "latency")} us");
        Assert.InRange(Figure(large, "latency") / Figure(small, "latency"), 0.97, 1.03);
        // The steady latency is the difference of two runs per extra call, less nothing the clock adds: within 5%.
        double perCall = (large.Outcome.SimulatedSeconds - small.Outcome.SimulatedSeconds) / 300 * 1e6;
        Assert.InRange(Figure(large, "latency") / perCall, 0.95, 1.05);
    }

    [Fact]
    public void A_run_of_one_operation_has_only_its_cold_latency()
    {
        WorkloadRunResult r = Run("lat-null", 1);
        Assert.True(double.IsNaN(r.FiguresOfMerit[0].Value));
        Assert.True(r.FiguresOfMerit[1].Value > 0);
    }
}
