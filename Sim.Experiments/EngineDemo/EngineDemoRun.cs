using Sim.Engine;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Engine.Tracing;
using Sim.Models.Queueing;

namespace Sim.Experiments.EngineDemo;

/// <summary>Runs the engine demonstration: each repetition is one independent, single-threaded simulation.</summary>
public static class EngineDemoRun
{
    public const string StationPath = "demo.station";

    /// <summary>Runs every repetition, in parallel; results come back in repetition order whatever the thread count.</summary>
    public static IReadOnlyList<RunResult> RunAll(EngineDemoScenario scenario, int maxThreads, Action<int>? repetitionDone = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        scenario.Validate();
        var results = new RunResult[scenario.Repetitions];
        int finished = 0;
        Parallel.For(0, scenario.Repetitions, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxThreads) }, i =>
        {
            results[i] = RunOne(scenario, i);
            repetitionDone?.Invoke(Interlocked.Increment(ref finished));
        });
        return results;
    }

    public static RunResult RunOne(EngineDemoScenario scenario, int repetition)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ulong seed = scenario.SeedOf(repetition);
        var sim = new Simulator(seed);
        if (repetition == 0 && scenario.TraceCapacity > 0)
        {
            sim.Trace = new TraceRecorder(scenario.TraceCapacity);
        }
        var station = new ServiceStation(sim, StationPath, scenario.Station);
        station.Start();
        sim.Run(scenario.WarmUp);
        sim.Stats.ResetAll(sim.Now);
        Tick end = scenario.WarmUp + scenario.Duration;
        sim.Run(end);
        IReadOnlyList<StatSample> samples = sim.Stats.Snapshot(sim.Now);
        return new RunResult($"seed{seed}", seed, samples, sim.EventsProcessed, sim.Now, sim.Trace);
    }
}
