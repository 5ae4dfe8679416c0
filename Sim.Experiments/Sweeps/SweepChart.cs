using System.Globalization;
using ScottPlot;
using Sim.Engine.Statistics;
using Sim.Experiments.Output;
using Sim.Workloads;

namespace Sim.Experiments.Sweeps;

/// <summary>
/// A sweep's figure of merit (<see cref="Sweep.PlotMetric"/>) against its last numeric grid axis (the number of guests, a
/// size, a quota ...), one line per combination of the other axes, each point its mean over the
/// seeds with its 95% interval as an error bar: how a workload holds up as guests are added (a
/// density curve) or as any knob is turned. Sized and lettered to be read when projected.
/// </summary>
public static class SweepChart
{
    /// <summary>The grid axis to put on the x axis: the last whose values are all numbers; null if none is.</summary>
    public static string? NumericAxis(Sweep sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        return sweep.Keys.LastOrDefault(k => sweep.Points.All(p => double.TryParse(p.Values.First(v => v.Key == k).Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)));
    }

    public static byte[] Png(Sweep sweep, IReadOnlyList<JobResult> results)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(results);
        string axis = NumericAxis(sweep) ?? throw new InvalidOperationException("The sweep's grid has no numeric axis to plot against.");
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        Metric first = results[0].Metrics.FirstOrDefault(m => m.Name == sweep.PlotMetric) ?? throw new InvalidOperationException($"The runs report no metric '{sweep.PlotMetric}'.");
        var plot = new Plot();
        Color[] colors = [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.IndianRed, Colors.MediumPurple, Colors.Olive, Colors.Teal, Colors.Black];
        int line = 0;
        foreach (var group in sweep.Points.GroupBy(p => string.Join(", ", p.Values.Where(v => v.Key != axis).Select(v => $"{v.Key}={v.Value}"))))
        {
            var xs = new List<double>();
            var ys = new List<double>();
            var errors = new List<double>();
            foreach (SweepPoint p in group)
            {
                double[] values = [.. results.Where(r => r.Point == p.Id).Select(r => r.Metrics.First(m => m.Name == first.Name).Value).Where(double.IsFinite)]; // a run a time limit cut short has none
                if (values.Length == 0)
                {
                    continue;
                }
                ReplicationSummary s = ReplicationSummary.Of(values);
                xs.Add(double.Parse(p.Values.First(v => v.Key == axis).Value, CultureInfo.InvariantCulture));
                ys.Add(s.Mean);
                errors.Add(double.IsNaN(s.HalfWidth) ? 0 : s.HalfWidth);
            }
            Color color = colors[line % colors.Length];
            var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            scatter.Color = color;
            scatter.LineWidth = 3;
            CycleChart.Distinguish(scatter, line++);
            scatter.LegendText = group.Key.Length == 0 ? first.Name : group.Key;
            var bars = plot.Add.ErrorBar(xs.ToArray(), ys.ToArray(), errors.ToArray());
            bars.Color = color;
        }
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, $"{first.Name} ({first.Unit})", $"Sweep {sweep.Name}: {first.Name} against {axis}");
        plot.Axes.Bottom.Label.Text = axis;
        plot.Axes.Bottom.Label.FontSize = 22;
        if (sweep.Points.All(p => long.TryParse(p.Values.First(v => v.Key == axis).Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
        {
            CycleChart.WholeNumbers(plot.Axes.Bottom); // guests, cores, sizes: no 2.5 guests on the axis
        }
        plot.Legend.FontSize = 16;
        plot.ShowLegend(Edge.Right);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
