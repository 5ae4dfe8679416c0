using ScottPlot;
using Sim.Experiments.Runs;

namespace Sim.Experiments.Output;

/// <summary>
/// The distribution of a run's latencies as cumulative distribution functions: the response
/// times a service's open-loop client measured (every one of them), or the kernel's histograms of
/// disk requests and request-response round trips (drawn through the percentiles each reports,
/// p1 to p99.9, and its minimum and maximum). A server's own round trips (its sendto to its next
/// recvfrom, mostly idle time) are not a latency anyone sees and are left out. Sized and lettered
/// to be read when projected.
/// </summary>
public static class LatencyChart
{
    /// <summary>The kernel's latency histograms: disk requests, request-response round trips.</summary>
    private static readonly string[] Kept = ["block_latency", "round_trip"];

    private static readonly (string Statistic, double Fraction)[] Points =
        [("min", 0), ("p1", 0.01), ("p5", 0.05), ("p10", 0.10), ("p25", 0.25), ("p50", 0.50), ("p75", 0.75), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99), ("p99_9", 0.999), ("max", 1)];

    /// <summary>The kernel's histograms of <paramref name="r"/> that recorded anything and are a latency (block_latency, and round_trip unless the workload is a server).</summary>
    public static IReadOnlyList<string> Histograms(WorkloadRunResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return [.. Kept.Where(h => r.Stat(r.KernelPath, h + "::count") > 0 && !(r.IsService && h == "round_trip"))];
    }

    /// <summary>Whether <paramref name="r"/> has a latency to draw.</summary>
    public static bool HasLatencies(WorkloadRunResult r) => r.ResponseMicroseconds.Count > 0 || Histograms(r).Count > 0;

    /// <summary>What the chart shows, for its title: the client's response times, or the kernel's latencies.</summary>
    public static string Subject(WorkloadRunResult r) => r is null ? "" : r.ResponseMicroseconds.Count > 0 ? "response time at the client" : "latency distribution";

    public static byte[] Png(string title, WorkloadRunResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        var plot = new Plot();
        Color[] colors = [Colors.SteelBlue, Colors.DarkOrange];
        int k = 0;
        if (r.ResponseMicroseconds.Count > 0)
        {
            double[] times = [.. r.ResponseMicroseconds];
            var client = plot.Add.Scatter(times, [.. times.Select((_, i) => (i + 1) / (double)times.Length)]);
            client.LegendText = "response time (client)";
            client.Color = colors[k++];
            client.LineWidth = 3;
            client.MarkerSize = 0;
        }
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
