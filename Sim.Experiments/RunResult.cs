using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Engine.Tracing;

namespace Sim.Experiments;

/// <summary>What one simulation run produced: its statistics, its event count and end time, and its trace if one was kept.</summary>
public sealed record RunResult(
    string RunId, ulong Seed, IReadOnlyList<StatSample> Samples, ulong EventsProcessed, Tick SimulatedTime, TraceRecorder? Trace)
{
    /// <summary>The value of one statistic, for reports and tests.</summary>
    public double Value(string path, string statistic) =>
        Samples.First(s => s.Path == path && s.Statistic == statistic).Value;
}
