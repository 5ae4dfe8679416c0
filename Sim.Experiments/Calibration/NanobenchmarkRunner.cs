using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;

namespace Sim.Experiments.Calibration;

/// <summary>
/// Measures a nanobenchmark, natively or under a virtualization architecture: the cycles one
/// operation adds to a loop, as a real measurement would, by differences. Four runs on fresh machines: the loop with the
/// operation at n and 2n iterations, and the empty loop at n and 2n. The operation's cost is
/// ((B(2n) - B(n)) - (E(2n) - E(n))) / n, which removes the loop control, the start-up and the
/// cold caches of the first n iterations.
/// </summary>
public static class NanobenchmarkRunner
{
    public static NanobenchmarkResult Measure(HardwareProfile profile, Nanobenchmark benchmark, int iterations, VirtualizationAxes? axes = null,
        MonitorParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(benchmark);
        if (iterations < 10)
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "At least 10 iterations are needed for a steady state.");
        }
        var empty = new EmptyLoop(benchmark);
        WorkloadRunResult b1 = WorkloadRun.Run(profile, benchmark, iterations, seed: 1, axes: axes, parameters: parameters);
        WorkloadRunResult b2 = WorkloadRun.Run(profile, benchmark, 2L * iterations, seed: 1, axes: axes, parameters: parameters);
        WorkloadRunResult e1 = WorkloadRun.Run(profile, empty, iterations, seed: 1, axes: axes, parameters: parameters);
        WorkloadRunResult e2 = WorkloadRun.Run(profile, empty, 2L * iterations, seed: 1, axes: axes, parameters: parameters);
        double Net(Func<WorkloadRunResult, double> f) => ((f(b2) - f(b1)) - (f(e2) - f(e1))) / iterations;
        var byCategory = Enum.GetValues<CycleCategory>().ToDictionary(c => c, c => Net(r => r.CyclesByCategory[c]));
        return new NanobenchmarkResult(benchmark.Name, profile.Name, Net(r => r.Outcome.CoreCycles), byCategory);
    }

    /// <summary>The nanobenchmark's loop without its operation, on the same prepared memory.</summary>
    private sealed class EmptyLoop(Nanobenchmark benchmark) : IWorkload
    {
        public string Name => benchmark.Name + "-empty";

        public string Description => "the loop control of " + benchmark.Name;

        public int Cpl => benchmark.Cpl;

        public void Prepare(WorkloadContext context) => benchmark.Prepare(context);

        public IOpStream CreateStream(WorkloadContext context) => Nanobenchmark.CreateEmptyLoop(context.Size);

        public IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome) => [];

        public IReadOnlyList<string> FigureNames => [];
    }
}
