using Sim.Engine.Statistics;

namespace Sim.Experiments.Runs;

/// <summary>
/// What one kernel's transparent huge pages did in a run, from its <c>kernel.thp</c> statistics
/// (the names /proc/vmstat gives them): faults a huge page served, faults that fell back to a 4 KiB
/// page, huge pages split, and ranges khugepaged collapsed.
/// </summary>
public sealed record HugePages(string Kernel, long Faults, long Fallbacks, long Splits, long Collapses)
{
    private const string Group = ".kernel.thp";

    /// <summary>Every kernel with transparent huge pages in <paramref name="samples"/> (host, vm0, ...), in the samples' order; empty when none had them.</summary>
    public static IReadOnlyList<HugePages> All(IReadOnlyList<StatSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return [.. samples.Where(s => s.Statistic == "fault_alloc" && s.Path.EndsWith(Group, StringComparison.Ordinal)).Select(s => s.Path).Distinct().Select(path =>
        {
            long Part(string statistic) => samples.Where(s => s.Path == path && s.Statistic == statistic).Select(s => (long)s.Value).FirstOrDefault();
            return new HugePages(path[..^Group.Length], Part("fault_alloc"), Part("fault_fallback"), Part("split_pmd"), Part("collapse_alloc"));
        })];
    }
}
