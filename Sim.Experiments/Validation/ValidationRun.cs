using Sim.Experiments.Calibration;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;

namespace Sim.Experiments.Validation;

/// <summary>One experiment's outcome: the simulated value beside the published one.</summary>
public sealed record ValidationResult(ReferenceExperiment Experiment, double Simulated)
{
    public double Error => Experiment.ErrorOf(Simulated);

    public bool Within => Experiment.Within(Simulated);
}

/// <summary>Runs the reference experiments of a suite, in parallel; the results come in the suite's order whatever the thread count.</summary>
public static class ValidationRun
{
    /// <param name="known">A simulated value kept from an earlier, interrupted run of the same experiment, or null to simulate it.</param>
    /// <param name="done">Hears of each result as it is known, with whether it was simulated now (false: <paramref name="known"/> had it).</param>
    public static IReadOnlyList<ValidationResult> RunAll(IReadOnlyList<ReferenceExperiment> experiments, int threads, Action<ValidationResult, bool>? done = null,
        Func<ReferenceExperiment, double?>? known = null)
    {
        ArgumentNullException.ThrowIfNull(experiments);
        var results = new ValidationResult[experiments.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        Parallel.For(0, experiments.Count, options, i =>
        {
            double? kept = known?.Invoke(experiments[i]);
            results[i] = new ValidationResult(experiments[i], kept ?? Simulate(experiments[i]));
            done?.Invoke(results[i], kept is null);
        });
        return results;
    }

    /// <summary>
    /// What decides an experiment's simulated value, as one string: its id, measure and fully
    /// resolved conditions, and the program that simulates it (<paramref name="program"/>: version
    /// and commit). A kept result is used again only under the same key.
    /// </summary>
    public static string Key(ReferenceExperiment e, string program)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Output.JsonText.Of(new Dictionary<string, object> { ["id"] = e.Id, ["measure"] = e.Measure.ToString(), ["conditions"] = e.Conditions.Resolved(), ["program"] = program });
    }

    /// <summary>The simulated value of <paramref name="e"/>'s quantity, measured as its <see cref="Measure"/> says.</summary>
    public static double Simulate(ReferenceExperiment e)
    {
        ArgumentNullException.ThrowIfNull(e);
        WorkloadScenario c = e.Conditions;
        HardwareProfile profile = c.ResolveProfile();
        VirtualizationAxes axes = c.ResolveAxes();
        (IWorkload workload, long size) = c.ResolveWorkload();
        WorkloadRunResult Run(VirtualizationAxes a) => WorkloadRun.Run(profile, workload, size, c.Seed, c.ResolveMachine(), a, c.ResolveMonitorParameters(),
            c.ResolveContainers(), c.ResolveConsolidation());
        switch (e.Measure.Kind)
        {
            case MeasureKind.CyclesPerOperation:
                return NanobenchmarkRunner.Measure(profile, (Nanobenchmark)workload, (int)size, axes, c.ResolveMonitorParameters()).CyclesPerOperation;
            case MeasureKind.Seconds:
                return Run(axes).Outcome.SimulatedSeconds * e.Measure.Scale;
            case MeasureKind.ExitCycles:
                WorkloadRunResult r = Run(axes);
                (_, long count, long cycles) = r.Exits.FirstOrDefault(x => x.Reason == e.Measure.Reason);
                return count > 0 ? (double)cycles / count
                    : throw new InvalidOperationException($"{e.Id}: the run made no {e.Measure.Reason} exit; its exits were {string.Join(", ", r.Exits.Select(x => x.Reason))}.");
            case MeasureKind.FigureOfMerit:
                WorkloadRunResult run = Run(axes);
                return run.FiguresOfMerit.FirstOrDefault(m => m.Name == e.Measure.Figure)?.Value
                    ?? throw new InvalidOperationException($"{e.Id}: {workload.Name} reports no figure '{e.Measure.Figure}'; its figures are {string.Join(", ", run.FiguresOfMerit.Select(m => m.Name))}.");
            case MeasureKind.RelativePerformance:
                // The workload's own rate (its first figure of merit: GUP/s, MB/s ...), as the
                // benchmarks report it over their timed region, not the whole run's time.
                return Run(axes).FiguresOfMerit[0].Value / Run(VirtualizationAxes.Native).FiguresOfMerit[0].Value;
            default:
                return Run(axes).Outcome.SimulatedSeconds / Run(VirtualizationAxes.Native).Outcome.SimulatedSeconds;
        }
    }
}
