using System.Globalization;
using Sim.Engine.Statistics;
using Sim.Models.Queueing;

namespace Sim.Experiments.EngineDemo;

/// <summary>
/// Compares what the simulated station measured (mean over repetitions, with its 95% interval)
/// with the exact M/M/c results of Erlang C.
/// </summary>
public sealed class EngineDemoReport
{
    private EngineDemoReport(EngineDemoScenario scenario, IReadOnlyList<Comparison> rows, ulong events)
    {
        Scenario = scenario;
        Rows = rows;
        EventsProcessed = events;
    }

    public EngineDemoScenario Scenario { get; }

    public IReadOnlyList<Comparison> Rows { get; }

    public ulong EventsProcessed { get; }

    public static EngineDemoReport Build(EngineDemoScenario scenario, IReadOnlyList<RunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(runs);
        ServiceStationParameters p = scenario.Station;
        const string Path = EngineDemoRun.StationPath;
        double psPerMicrosecond = 1e6;
        Comparison Row(string quantity, string unit, string statistic, double scale, double exact) =>
            new(quantity, unit, ReplicationSummary.Of(runs.Select(r => r.Value(Path, statistic) / scale).ToArray()), exact);
        Comparison[] rows =
        [
            Row("mean wait before service", "µs", "wait_time::mean", psPerMicrosecond, ErlangC.MeanWaitSeconds(p) * 1e6),
            Row("mean response time", "µs", "response_time::mean", psPerMicrosecond, ErlangC.MeanResponseSeconds(p) * 1e6),
            Row("mean queue length", "customers", "queue_length::mean", 1, ErlangC.MeanQueueLength(p)),
            Row("mean busy servers", "servers", "busy_servers::mean", 1, p.Utilization * p.Servers),
        ];
        ulong events = 0;
        foreach (RunResult r in runs)
        {
            events += r.EventsProcessed;
        }
        return new EngineDemoReport(scenario, rows, events);
    }

    /// <summary>The comparison as a Markdown table.</summary>
    public string ToMarkdown()
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new System.Text.StringBuilder();
        md.AppendLine("# Engine demonstration: an M/M/c station against Erlang C").AppendLine();
        md.Append(ci, $"{Scenario.Servers} servers at utilization {Scenario.Utilization:0.###}, mean service time {Scenario.MeanServiceTime.TotalMicroseconds:0.###} µs; ");
        md.Append(ci, $"{Scenario.Repetitions} repetitions (seeds {Scenario.SeedOf(0)}..{Scenario.SeedOf(Scenario.Repetitions - 1)}) of {Scenario.Duration.TotalSeconds:0.###} s simulated after a {Scenario.WarmUp.TotalSeconds:0.###} s warm-up; {EventsProcessed:N0} events in all.").AppendLine().AppendLine();
        md.AppendLine("| quantity | unit | simulated (mean) | 95% interval | Erlang C | error | exact value inside the interval |");
        md.AppendLine("|---|---|---:|---|---:|---:|---|");
        foreach (Comparison r in Rows)
        {
            md.AppendLine(ci, $"| {r.Quantity} | {r.Unit} | {r.Simulated.Mean:0.####} | {Interval(r.Simulated)} | {r.Exact:0.####} | {r.RelativeError:+0.00%;-0.00%} | {(r.ExactInsideInterval ? "yes" : "no")} |");
        }
        md.AppendLine().AppendLine("A 95% interval misses the exact value about one time in twenty by chance; a miss in every run would point at the engine.");
        return md.ToString();
    }

    private static string Interval(ReplicationSummary s) =>
        double.IsNaN(s.HalfWidth) ? "(one run)" : string.Create(CultureInfo.InvariantCulture, $"[{s.Lower:0.####}, {s.Upper:0.####}]");

    /// <summary>One quantity: simulated over repetitions against its exact value.</summary>
    public sealed record Comparison(string Quantity, string Unit, ReplicationSummary Simulated, double Exact)
    {
        public double RelativeError => (Simulated.Mean - Exact) / Exact;

        public bool ExactInsideInterval => !double.IsNaN(Simulated.HalfWidth) && Exact >= Simulated.Lower && Exact <= Simulated.Upper;
    }
}
