using ScottPlot;

namespace Sim.Experiments.Output;

/// <summary>
/// A figure against a count (threads, CPUs, cores), one line per series: how something scales as
/// more of the machine takes part. Sized and lettered to be read when projected.
/// </summary>
public static class ScalingChart
{
    /// <summary>A line of the chart: its name and its points, in the order of the counts.</summary>
    public sealed record Series(string Name, IReadOnlyList<(double Count, double Value)> Points);

    public static byte[] Png(string title, string countLabel, string valueLabel, IReadOnlyList<Series> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0 || series.Any(s => s.Points.Count == 0))
        {
            throw new ArgumentException("A scaling chart needs at least one series, each with a point.", nameof(series));
        }
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        var plot = new Plot();
        Color[] colors = [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.IndianRed, Colors.MediumPurple, Colors.Black];
        for (int i = 0; i < series.Count; i++)
        {
            var line = plot.Add.Scatter(series[i].Points.Select(p => p.Count).ToArray(), series[i].Points.Select(p => p.Value).ToArray());
            line.Color = colors[i % colors.Length];
            line.LineWidth = 3;
            CycleChart.Distinguish(line, i);
            line.LegendText = series[i].Name;
        }
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, valueLabel, title);
        plot.Axes.Bottom.Label.Text = countLabel;
        plot.Axes.Bottom.Label.FontSize = 22;
        CycleChart.WholeNumbers(plot.Axes.Bottom);
        double[] counts = [.. series.SelectMany(s => s.Points.Select(p => p.Count))];
        double top = series.SelectMany(s => s.Points.Select(p => p.Value)).Max();
        plot.Axes.SetLimits(counts.Min() - 0.5, counts.Max() + 0.5, 0, top * 1.15); // from zero: how much more, not how it wiggles
        plot.Legend.FontSize = 16;
        plot.ShowLegend(Edge.Right);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
