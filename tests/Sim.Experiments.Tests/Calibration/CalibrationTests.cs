using Sim.Experiments.Calibration;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Workloads.Nanobenchmarks;

namespace Sim.Experiments.Tests.Calibration;

public class CalibrationTests
{
    [Fact]
    public void Every_nanobenchmark_with_a_published_native_figure_is_within_15_percent_of_it_on_the_P4()
    {
        NanobenchmarkResult[] measured = [.. CalibrationReport.MeasureAll(HardwareProfiles.Pentium4672, iterations: 300)
            .Where(r => PublishedNative.Pentium4Cycles.ContainsKey(r.Benchmark))];
        Assert.Equal(PublishedNative.Pentium4Cycles.Keys.Order(StringComparer.Ordinal), measured.Select(r => r.Benchmark).Order(StringComparer.Ordinal));
        foreach (NanobenchmarkResult r in measured)
        {
            double target = PublishedNative.Pentium4Cycles[r.Benchmark];
            double error = Math.Abs(r.CyclesPerOperation - target) / target;
            Assert.True(error <= PublishedNative.Tolerance, $"{r.Benchmark}: simulated {r.CyclesPerOperation:0.#}, published {target}");
        }
    }

    [Fact]
    public void The_measurement_removes_the_loop_and_the_categories_add_up()
    {
        NanobenchmarkResult r = NanobenchmarkRunner.Measure(HardwareProfiles.NehalemX5570, Nanobenchmark.Get("pgfault"), 200);
        Assert.Equal(r.CyclesPerOperation, r.CyclesByCategory.Values.Sum(), 6);
        Assert.True(r.CyclesByCategory[CycleCategory.PageWalk] > 0);
        Assert.Equal(0, r.CyclesByCategory[CycleCategory.Idle]);
        Assert.Equal(2.0, NanobenchmarkRunner.Measure(HardwareProfiles.NehalemX5570, Nanobenchmark.Get("callret"), 100).CyclesPerOperation);
    }

    [Fact]
    public void Measurements_are_deterministic()
    {
        Nanobenchmark b = Nanobenchmark.Get("pgfault");
        Assert.Equal(
            NanobenchmarkRunner.Measure(HardwareProfiles.SkylakeSp8180, b, 100),
            NanobenchmarkRunner.Measure(HardwareProfiles.SkylakeSp8180, b, 100), new ResultComparer());
    }

    [Fact]
    public void Too_few_iterations_and_unknown_names_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NanobenchmarkRunner.Measure(HardwareProfiles.Pentium4672, Nanobenchmark.Get("in"), 5));
        var e = Assert.Throws<ArgumentException>(() => Nanobenchmark.Get("forkwait"));
        Assert.Contains("syscall", e.Message, StringComparison.Ordinal);
    }

    private sealed class ResultComparer : IEqualityComparer<NanobenchmarkResult>
    {
        public bool Equals(NanobenchmarkResult? x, NanobenchmarkResult? y) =>
            x is not null && y is not null && x.CyclesPerOperation == y.CyclesPerOperation &&
            x.CyclesByCategory.OrderBy(k => k.Key).SequenceEqual(y.CyclesByCategory.OrderBy(k => k.Key));

        public int GetHashCode(NanobenchmarkResult obj) => obj.CyclesPerOperation.GetHashCode();
    }
}

public class ForkWaitTests
{
    [Fact]
    public void Forkwait_creates_and_reaps_a_process_per_iteration_and_is_deterministic()
    {
        var w = new Sim.Workloads.Processes.ForkWait();
        Sim.Experiments.Runs.WorkloadRunResult a = Sim.Experiments.Runs.WorkloadRun.Run(HardwareProfiles.Pentium4672, w, 50, seed: 3);
        Sim.Experiments.Runs.WorkloadRunResult b = Sim.Experiments.Runs.WorkloadRun.Run(HardwareProfiles.Pentium4672, w, 50, seed: 3);
        Assert.Equal(a.Outcome, b.Outcome);
        Assert.Equal(a.Outcome.CoreCycles, (ulong)a.CyclesByCategory.Values.Sum());
        Assert.Contains(a.FiguresOfMerit, m => m.Name == "fork_wait_us" && m.Value > 0);
    }

    [Fact]
    public void Every_child_faults_in_its_library_text_and_copies_what_it_writes_even_when_ticks_land_in_kernel_paths()
    {
        // 300 forks span several 4 ms scheduler ticks, most of which arrive inside kernel paths;
        // a tick there must not switch processes (that lost the faulting access's retry once).
        const int Forks = 300;
        Sim.Experiments.Runs.WorkloadRunResult r = Sim.Experiments.Runs.WorkloadRun.Run(HardwareProfiles.Pentium4672, new Sim.Workloads.Processes.ForkWait(), Forks, seed: 1);
        Assert.True(r.Stat("host.cpu0", "interrupts") >= 2);
        Assert.Equal(Forks, r.Stat("host.kernel", "forks"));
        Assert.Equal(Forks + 1, r.Stat("host.kernel", "exits"));
        // To the child, which runs first, and back; a tick that lands in user code may add a round-robin switch and its return.
        double ticks = r.Stat("host.cpu0", "interrupts");
        Assert.InRange(r.Stat("host.kernel", "context_switches"), 2 * Forks, (2 * Forks) + (2 * ticks));
        // Child: the fork return page, the program's text and four exit pages are faulted in
        // (fork copies no read-only file mapping); the TLS, libc data, stack and bss pages it
        // writes are copied. The parent then writes libc data and its stack again: two reuses.
        // Start-up and first-call faults cancel in the difference with a one-fork run.
        Sim.Experiments.Runs.WorkloadRunResult one = Sim.Experiments.Runs.WorkloadRun.Run(HardwareProfiles.Pentium4672, new Sim.Workloads.Processes.ForkWait(), 1, seed: 1);
        double PerFork(string counter) => (r.Stat("host.kernel", counter) - one.Stat("host.kernel", counter)) / (Forks - 1);
        Assert.Equal(6, PerFork("file_faults"), 6);
        Assert.Equal(6, PerFork("copy_on_write_faults"), 6);
    }
}
