using System.Globalization;
using CsvHelper;
using Sim.Engine.Statistics;

namespace Sim.Experiments.Output;

/// <summary>
/// Summarises every statistic over the repetitions of a run (mean, standard deviation and 95%
/// Student-t interval) and writes one CSV row per statistic.
/// </summary>
public static class SummaryCsv
{
    public static readonly string[] Header = ["path", "statistic", "unit", "runs", "mean", "std_dev", "ci95_low", "ci95_high", "note"];

    public static IReadOnlyList<(StatSample Key, ReplicationSummary Summary)> Summarise(IReadOnlyList<RunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0)
        {
            return [];
        }
        // Every run of one scenario registers the same statistics in the same order.
        var rows = new List<(StatSample, ReplicationSummary)>();
        IReadOnlyList<StatSample> first = runs[0].Samples;
        for (int i = 0; i < first.Count; i++)
        {
            var values = new double[runs.Count];
            for (int r = 0; r < runs.Count; r++)
            {
                StatSample s = runs[r].Samples[i];
                if (s.Path != first[i].Path || s.Statistic != first[i].Statistic)
                {
                    throw new InvalidOperationException($"Run {runs[r].RunId} has {s.Path}.{s.Statistic} where {first[i].Path}.{first[i].Statistic} was expected.");
                }
                values[r] = s.Value;
            }
            rows.Add((first[i], ReplicationSummary.Of(values)));
        }
        return rows;
    }

    public static void Write(TextWriter writer, IReadOnlyList<RunResult> runs)
    {
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, Header);
        foreach ((StatSample key, ReplicationSummary s) in Summarise(runs))
        {
            csv.WriteField(key.Path);
            csv.WriteField(key.Statistic);
            csv.WriteField(key.Unit);
            csv.WriteField(s.Count.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(StatsCsv.Number(s.Mean));
            csv.WriteField(StatsCsv.Number(s.StandardDeviation));
            csv.WriteField(StatsCsv.Number(s.Lower));
            csv.WriteField(StatsCsv.Number(s.Upper));
            csv.WriteField(StatsCsv.IntervalNote(s));
            csv.NextRecord();
        }
    }
}
