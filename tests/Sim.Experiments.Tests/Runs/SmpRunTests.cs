using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

public class SmpRunTests
{
    private static double Units(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "units").Value;

    [Fact]
    public void A_build_with_eight_jobs_on_eight_CPUs_is_at_least_five_times_as_fast_as_with_one()
    {
        var one = new WorkloadScenario { Workload = "kernel-build", Profile = "nehalem-x5570", Size = 8, HostCores = 8, Jobs = 1 };
        WorkloadRunResult serial = one.RunOnce(1), parallel = (one with { Jobs = 8 }).RunOnce(1);
        Assert.True(Units(parallel) >= 5 * Units(serial), $"{Units(parallel):F1} units/s with -j8 against {Units(serial):F1} with -j1");
        // Every CPU's cycles are in the outcome: eight CPUs' worth of busy and idle time.
        Assert.InRange(parallel.Outcome.CoreCycles / (parallel.Outcome.SimulatedSeconds * 2.93e9), 7.9, 8.1);
    }

    [Theory]
    [InlineData("host_cores", "9", "host_cores must be 1 to 8 on nehalem-x5570")]
    [InlineData("jobs", "0", "jobs must be 1 to 1024")]
    [InlineData("sync_quantum_ns", "20000", "sync_quantum_ns must be 0")]
    public void A_host_the_profile_cannot_have_or_a_bad_job_count_is_refused(string key, string value, string says)
    {
        var s = new WorkloadScenario { Workload = "kernel-build", Profile = "nehalem-x5570" };
        s = key switch
        {
            "host_cores" => s with { HostCores = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "jobs" => s with { Jobs = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            _ => s with { SyncQuantumNs = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
        };
        Assert.Contains(says, s.Problem(key), StringComparison.Ordinal);
        Assert.Contains("jobs is make -j for kernel-build", (new WorkloadScenario { Workload = "web", Jobs = 4 }).Problem("jobs"), StringComparison.Ordinal);
    }

    private static double Figure(WorkloadRunResult r, string name) => r.FiguresOfMerit.Single(m => m.Name == name).Value;

    [Fact]
    public void A_contended_spinlock_makes_each_increment_slower_than_alone()
    {
        var alone = new WorkloadScenario { Workload = "lock-counter", Profile = "nehalem-x5570", Size = 2_000, HostCores = 4 };
        double one = Figure(alone.RunOnce(1), "increment_ns"), four = Figure((alone with { Threads = 4 }).RunOnce(1), "increment_ns");
        Assert.True(four > 1.5 * one, $"{four:F1} ns per increment with 4 threads against {one:F1} alone");
    }

    [Fact]
    public void A_shootdown_round_takes_longer_with_more_CPUs_to_flush()
    {
        var s = new WorkloadScenario { Workload = "tlb-shootdown", Profile = "nehalem-x5570", Size = 100, HostCores = 8 };
        double alone = Figure(s.RunOnce(1), "round_us"), two = Figure((s with { Threads = 2 }).RunOnce(1), "round_us"), eight = Figure((s with { Threads = 8 }).RunOnce(1), "round_us");
        Assert.True(alone < two && two < eight, $"{alone:F2}, {two:F2}, {eight:F2} us per round with 1, 2 and 8 threads");
    }

    [Fact]
    public void Threads_are_refused_for_a_workload_that_has_none()
    {
        Assert.Contains("process_threads is for the threaded workloads (lock-counter, mutex-counter, tlb-shootdown)", new WorkloadScenario { Workload = "web", Threads = 2 }.Problem("process_threads"), StringComparison.Ordinal);
    }
}
