using Sim.Engine.Statistics;

namespace Sim.Experiments.Runs;

/// <summary>
/// A container's host memory, as its memory cgroup counts it in its <c>ctN.memory</c> statistics:
/// the most it held at once (its processes' pages and the page cache charged to it), the most
/// page cache, and what it holds at the end.
/// </summary>
public sealed record ContainerHostMemory(string Container, double PeakCharged, double PeakCache, double Charged, double Cache)
{
    private const string Group = ".memory";

    /// <summary>Every container's parts in <paramref name="samples"/>, in the samples' order; none for a run without containers.</summary>
    public static IReadOnlyList<ContainerHostMemory> All(IReadOnlyList<StatSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        double Part(string path, string statistic) => samples.Where(s => s.Path == path && s.Statistic == statistic).Select(s => s.Value).FirstOrDefault();
        return [.. samples.Where(s => s.Statistic == "peak_charged_bytes" && s.Path.EndsWith(Group, StringComparison.Ordinal)).Select(s => s.Path).Distinct()
            .Select(path => new ContainerHostMemory(path[..^Group.Length], Part(path, "peak_charged_bytes"), Part(path, "peak_cache_bytes"), Part(path, "charged_bytes"), Part(path, "cache_bytes")))];
    }
}
