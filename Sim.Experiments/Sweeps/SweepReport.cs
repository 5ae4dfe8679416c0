using System.Globalization;
using System.Text;
using CsvHelper;
using Sim.Engine.Statistics;
using Sim.Experiments.Output;
using Sim.Workloads;

namespace Sim.Experiments.Sweeps;

/// <summary>
/// A finished sweep's tables: every run's metrics (points.csv, long format), each point's mean
/// and 95% confidence interval over its seeds (summary.csv, MathNet.Numerics' Student t through
/// <see cref="ReplicationSummary"/>), and a report. Built only from the job files, in the
/// sweep's order, so the bytes do not depend on threads, interruptions or shards.
/// </summary>
public static class SweepReport
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static void WritePoints(TextWriter writer, Sweep sweep, IReadOnlyList<JobResult> results)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(results);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["point", .. sweep.Keys, "seed", "metric", "value", "unit"]);
        foreach (JobResult r in results)
        {
            SweepPoint p = Point(sweep, r.Point);
            foreach (Metric m in r.Metrics)
            {
                csv.WriteField(p.Id);
                foreach ((_, string value) in p.Values)
                {
                    csv.WriteField(value);
                }
                csv.WriteField(r.Seed.ToString(Ci));
                csv.WriteField(m.Name);
                csv.WriteField(StatsCsv.Number(m.Value));
                csv.WriteField(m.Unit);
                csv.NextRecord();
            }
        }
    }

    public static void WriteSummary(TextWriter writer, Sweep sweep, IReadOnlyList<JobResult> results)
    {
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["point", .. sweep.Keys, "metric", "unit", "runs", "mean", "ci95_low", "ci95_high", "note"]);
        foreach ((SweepPoint p, Metric m, ReplicationSummary s) in Summaries(sweep, results))
        {
            csv.WriteField(p.Id);
            foreach ((_, string value) in p.Values)
            {
                csv.WriteField(value);
            }
            csv.WriteField(m.Name);
            csv.WriteField(m.Unit);
            csv.WriteField(s.Count.ToString(Ci));
            csv.WriteField(StatsCsv.Number(s.Mean));
            csv.WriteField(StatsCsv.Number(s.Lower));
            csv.WriteField(StatsCsv.Number(s.Upper));
            csv.WriteField(StatsCsv.IntervalNote(s));
            csv.NextRecord();
        }
    }

    /// <summary>A table per metric: each point's values of the grid and its mean with the 95% interval.</summary>
    public static string ToMarkdown(Sweep sweep, IReadOnlyList<JobResult> results)
    {
        var md = new StringBuilder();
        md.Append(Ci, $"# Sweep {sweep.Name}\n\n{sweep.Points.Count} points x {sweep.Seeds} seed(s); every run's metrics in `points.csv`, means and 95% confidence intervals in `summary.csv`.\n");
        foreach (var metric in Summaries(sweep, results).GroupBy(x => (x.Metric.Name, x.Metric.Unit)))
        {
            md.Append(Ci, $"\n## {metric.Key.Name} ({metric.Key.Unit})\n\n| point | {string.Join(" | ", sweep.Keys)} | mean | 95% interval |\n|---|{string.Concat(sweep.Keys.Select(_ => "---|"))}---:|---|\n");
            foreach ((SweepPoint p, _, ReplicationSummary s) in metric)
            {
                string interval = double.IsNaN(s.HalfWidth) ? "(one run)" : string.Create(Ci, $"{s.Lower:G5} to {s.Upper:G5}");
                md.Append(Ci, $"| {p.Id} | {string.Join(" | ", p.Values.Select(v => v.Value))} | {s.Mean:G5} | {interval} |\n");
            }
        }
        if (results.Any(r => r.Binding.Length > 0))
        {
            md.Append(Ci, $"\n## binding resource\n\nEach point's binding resource (docs/virtualization.md, \"The binding resource\"); where seeds differ, each with its count.\n\n| point | {string.Join(" | ", sweep.Keys)} | binding resource |\n|---|{string.Concat(sweep.Keys.Select(_ => "---|"))}---|\n");
            foreach (SweepPoint p in sweep.Points.Where(p => results.Any(r => r.Point == p.Id)))
            {
                var seen = results.Where(r => r.Point == p.Id).GroupBy(r => r.Binding).ToList();
                string binding = seen.Count == 1 ? seen[0].Key : string.Join("; ", seen.Select(g => string.Create(Ci, $"{g.Key} ({g.Count()} seeds)")));
                md.Append(Ci, $"| {p.Id} | {string.Join(" | ", p.Values.Select(v => v.Value))} | {binding} |\n");
            }
        }
        return md.ToString();
    }

    private static IEnumerable<(SweepPoint Point, Metric Metric, ReplicationSummary Summary)> Summaries(Sweep sweep, IReadOnlyList<JobResult> results)
    {
        foreach (SweepPoint p in sweep.Points)
        {
            JobResult[] runs = [.. results.Where(r => r.Point == p.Id)];
            if (runs.Length == 0)
            {
                continue;
            }
            foreach (Metric m in runs[0].Metrics)
            {
                double[] values = [.. runs.Select(r => r.Metrics.First(x => x.Name == m.Name).Value)];
                yield return (p, m, ReplicationSummary.Of(values));
            }
        }
    }

    private static SweepPoint Point(Sweep sweep, string id) => sweep.Points.First(p => p.Id == id);
}
