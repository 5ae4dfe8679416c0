using ScottPlot;
using Sim.Experiments.Output;

namespace Sim.Experiments.Density;

/// <summary>
/// A mixed host's interference as a picture (<c>interference.png</c>): for each preset and each
/// workload, how much worse its worst guest did with the others than one guest alone on the host,
/// at the density and at the first count that missed. "Worse" is the level's direction: a time
/// that must stay under a bound over its value alone, a rate that must stay over one, its value
/// alone over it; 1 is no interference. Sized to be projected.
/// </summary>
public static class InterferenceChart
{
    /// <summary>One bar: a preset's workload and its worst guest's slowdown against itself alone.</summary>
    public sealed record Slowdown(string Preset, string Workload, double AtDensity, double AtFirstMiss);

    /// <summary>Each workload's slowdown, per preset searched; NaN where a count did not run.</summary>
    public static IReadOnlyList<Slowdown> Of(DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(results);
        // The report's interference rows (DensityReport), each as its worst guest against itself alone.
        static double Ratio(ServiceLevel level, Engine.Statistics.ReplicationSummary? alone, Engine.Statistics.ReplicationSummary? with) =>
            alone is not { Mean: > 0 } a || with is not { Mean: > 0 } w ? double.NaN : level.AtMost ? w.Mean / a.Mean : a.Mean / w.Mean;
        return [.. DensityReport.InterferenceRows(study, results).Select(row => new Slowdown(row.Preset, row.Name, Ratio(row.Level, row.Alone, row.AtDensity), Ratio(row.Level, row.Alone, row.AtFirstMiss)))];
    }

    public static byte[] Png(DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        IReadOnlyList<Slowdown> rows = Of(study, results);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        var plot = new Plot();
        string[] workloads = [.. rows.Select(r => r.Workload).Distinct(StringComparer.Ordinal)];
        string[] presets = [.. rows.Select(r => r.Preset).Distinct(StringComparer.Ordinal)];
        Color[] colors = [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.IndianRed, Colors.MediumPurple, Colors.Olive];
        double width = 0.8 / (2 * workloads.Length);
        for (int w = 0; w < workloads.Length; w++)
        {
            foreach ((bool atMiss, int k) in new[] { (false, 0), (true, 1) })
            {
                var bars = new List<Bar>();
                for (int p = 0; p < presets.Length; p++)
                {
                    Slowdown? row = rows.FirstOrDefault(r => r.Preset == presets[p] && r.Workload == workloads[w]);
                    double value = row is null ? double.NaN : atMiss ? row.AtFirstMiss : row.AtDensity;
                    if (double.IsFinite(value))
                    {
                        bars.Add(new Bar
                        {
                            Position = p - 0.4 + (width * ((2 * w) + k + 0.5)), Value = value, Size = width * 0.9,
                            FillColor = colors[w % colors.Length].WithAlpha(atMiss ? 0.45 : 1),
                        });
                    }
                }
                if (bars.Count > 0)
                {
                    plot.Add.Bars(bars).LegendText = $"{workloads[w]}, {(atMiss ? "at the first miss" : "at the density")}";
                }
            }
        }
        var alone = plot.Add.HorizontalLine(1);
        alone.Color = Colors.Black;
        alone.LinePattern = LinePattern.Dashed;
        alone.LegendText = "alone on the host";
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, presets.Length).Select(i => (double)i)], presets);
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, "worst guest / alone (worse up)", $"Interference on a mixed host: {study.Name}");
        double top = rows.SelectMany(r => new[] { r.AtDensity, r.AtFirstMiss }).Where(double.IsFinite).DefaultIfEmpty(1).Max();
        plot.Axes.SetLimits(-0.6, presets.Length - 0.4, 0, Math.Max(1.2, top * 1.15));
        plot.Legend.FontSize = 16;
        plot.ShowLegend(Edge.Right);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
