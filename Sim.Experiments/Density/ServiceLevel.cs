using System.Globalization;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Density;

/// <summary>
/// A service level every guest must keep: one of its workload's figures of merit, at most or at
/// least a bound (<c>response_p99 &lt;= 2000</c>: the 99th-percentile response time no more than
/// 2,000 us; <c>requests &gt;= 450</c>: at least 450 requests a second served), or a memory level,
/// <see cref="MajorFaultsPerSecond"/>, which every workload has once its kernels have swap.
/// </summary>
public sealed record ServiceLevel(string Metric, bool AtMost, double Bound)
{
    /// <summary>
    /// The memory service level: a guest's faults per second of its run that waited for a page
    /// read from swap (a virtual machine's kernel's, a container's own: vmstat's pgmajfault over
    /// time), so that a probe whose guests swap more than the level allows fails on memory.
    /// </summary>
    public const string MajorFaultsPerSecond = "major_faults_per_s";

    /// <summary>Whether the level is <see cref="MajorFaultsPerSecond"/>, read from the kernels' statistics rather than the workload's figures.</summary>
    public bool OnMajorFaults => Metric == MajorFaultsPerSecond;

    /// <summary>Reads <c>NAME &lt;= NUMBER</c> or <c>NAME &gt;= NUMBER</c>.</summary>
    public static ServiceLevel Parse(string text, string where)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach ((string op, bool atMost) in new[] { ("<=", true), (">=", false) })
        {
            int at = text.IndexOf(op, StringComparison.Ordinal);
            if (at > 0 && double.TryParse(text[(at + 2)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double bound) && double.IsFinite(bound))
            {
                return new ServiceLevel(text[..at].Trim(), atMost, bound);
            }
        }
        throw new ScenarioException($"{where}: slo: '{text}' is not a service level; write a figure of merit, <= or >=, and a number, such as 'response_p99 <= 2000'.");
    }

    /// <summary>The guest's value of the metric; a missing metric is a mistake of the study, told with the metrics there are.</summary>
    public double ValueIn(IReadOnlyList<Metric> figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        return figures.FirstOrDefault(f => f.Name == Metric)?.Value
            ?? throw new ScenarioException($"slo: the workload reports no figure of merit '{Metric}'; it reports {string.Join(", ", figures.Select(f => f.Name))}.");
    }

    /// <summary>Whether <paramref name="value"/> keeps the level (NaN never does).</summary>
    public bool IsMet(double value) => AtMost ? value <= Bound : value >= Bound;

    /// <summary>Of several guests' values, the one furthest from keeping the level.</summary>
    public double Worst(IEnumerable<double> values) =>
        values.Aggregate(AtMost ? double.NegativeInfinity : double.PositiveInfinity, (w, v) => double.IsNaN(v) || double.IsNaN(w) ? double.NaN : AtMost ? Math.Max(w, v) : Math.Min(w, v));

    public override string ToString() => $"{Metric} {(AtMost ? "<=" : ">=")} {Bound.ToString("G", CultureInfo.InvariantCulture)}";
}
