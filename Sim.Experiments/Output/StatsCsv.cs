using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Sim.Engine.Statistics;

namespace Sim.Experiments.Output;

/// <summary>
/// Writes statistics as long-format CSV: one row per (run, path, statistic), with invariant
/// culture, '\n' line ends and shortest round-trip numbers, so equal results give equal bytes.
/// </summary>
public static class StatsCsv
{
    public static readonly string[] Header = ["run", "seed", "path", "statistic", "value", "unit"];

    public static void Write(TextWriter writer, IEnumerable<RunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        using var csv = new CsvWriter(writer, Configuration(), leaveOpen: true);
        WriteHeader(csv, Header);
        foreach (RunResult run in runs)
        {
            foreach (StatSample s in run.Samples)
            {
                csv.WriteField(run.RunId);
                csv.WriteField(run.Seed.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(s.Path);
                csv.WriteField(s.Statistic);
                csv.WriteField(Number(s.Value));
                csv.WriteField(s.Unit);
                csv.NextRecord();
            }
        }
    }

    internal static CsvConfiguration Configuration() => new(CultureInfo.InvariantCulture) { NewLine = "\n" };

    internal static void WriteHeader(CsvWriter csv, IEnumerable<string> names)
    {
        foreach (string name in names)
        {
            csv.WriteField(name);
        }
        csv.NextRecord();
    }

    /// <summary>Shortest round-trip form; empty for NaN (an undefined value, such as the interval of one run).</summary>
    /// <summary>
    /// Why a summary's interval says little, for the <c>note</c> column: one run has none; an
    /// interval of zero width means every seed gave the same value (the statistic depends on no
    /// random draw: a deterministic workload, a count fixed by the size), not that it is exact.
    /// </summary>
    internal static string IntervalNote(Engine.Statistics.ReplicationSummary s) =>
        s.Count < 2 ? "one run: no interval"
        : s.StandardDeviation == 0 ? "zero width: every seed gave the same value (it depends on no random draw)"
        : "";

    internal static string Number(double value) =>
        double.IsNaN(value) ? string.Empty : value.ToString("R", CultureInfo.InvariantCulture);
}
