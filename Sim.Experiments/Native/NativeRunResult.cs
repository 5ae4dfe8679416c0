using Sim.Models.Cpu;
using Sim.Workloads;

namespace Sim.Experiments.Native;

/// <summary>What a native run of a workload produced.</summary>
public sealed record NativeRunResult(
    string Workload,
    string Profile,
    ulong Seed,
    long Size,
    WorkloadOutcome Outcome,
    IReadOnlyList<Metric> FiguresOfMerit,
    IReadOnlyDictionary<CycleCategory, long> CyclesByCategory,
    RunResult Run)
{
    public double Ipc => (double)Outcome.Instructions / Outcome.CoreCycles;

    /// <summary>One statistic of the core's component tree (host.cpu0...), or 0 when absent.</summary>
    public double Stat(string path, string statistic) =>
        Run.Samples.FirstOrDefault(s => s.Path == path && s.Statistic == statistic).Value;
}
