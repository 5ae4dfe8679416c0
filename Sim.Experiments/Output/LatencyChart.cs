using ScottPlot;
using Sim.Experiments.Runs;

namespace Sim.Experiments.Output;

/// <summary>
/// The distribution of a run's latencies (disk requests, request-response round trips) as
/// cumulative distribution functions: for each histogram the kernel kept, the fraction of events
/// at or below each latency, drawn through the percentiles the histogram reports (p1 to p99.9)
/// and its minimum and maximum. Sized and lettered to be read when projected.
/// </summary>
public static class LatencyChart
{
    /// <summary>The kernel's latency histograms: disk requests, request-response round trips.</summary>
    private static readonly string[] Kept = ["block_latency", "round_trip"];

    private static readonly (string Statistic, double Fraction)[] Points =
        [("min", 0), ("p1", 0.01), ("p5", 0.05), ("p10", 0.10), ("p25", 0.25), ("p50", 0.50), ("p75", 0.75), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99), ("p99_9", 0.999), ("max", 1)];

    /// <summary>The histograms of <paramref name="r"/> that recorded anything: block_latency, round_trip.</summary>
    public static IReadOnlyList<string> Histograms(WorkloadRunResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return [.. Kept.Where(h => r.Stat(r.KernelPath, h + "::count") > 0)];
    }

    public static byte[] Png(string title, WorkloadRunResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        var plot = new Plot();
        Color[] colors = [Colors.SteelBlue, Colors.DarkOrange];
        int k = 0;
        foreach (string h in Histograms(r))
        {
            double[] us = [.. Points.Select(p => r.Stat(r.KernelPath, $"{h}::{p.Statistic}") / 1000)];
            double[] fraction = [.. Points.Select(p => p.Fraction)];
            var line = plot.Add.Scatter(us, fraction);
            line.LegendText = h.Replace('_', ' ');
            line.Color = colors[k++ % colors.Length];
            line.LineWidth = 3;
            line.MarkerSize = 8;
        }
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, "fraction at or below", title);
        plot.Axes.Bottom.Label.Text = "latency (us)";
        plot.Axes.Bottom.Label.FontSize = 22;
        plot.Legend.FontSize = 18;
        plot.ShowLegend(Edge.Right);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
