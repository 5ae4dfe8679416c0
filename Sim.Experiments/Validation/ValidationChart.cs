using ScottPlot;
using Sim.Experiments.Output;

namespace Sim.Experiments.Validation;

/// <summary>
/// Simulated against published, each on a logarithmic axis, with the identity line on which a
/// perfect model's points would lie: calibration targets and validation targets in two colours,
/// each point labelled with its experiment. Sized and lettered to be read when projected.
/// </summary>
public static class ValidationChart
{
    public static byte[] Png(IReadOnlyList<ValidationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        var plot = new Plot();
        double low = Math.Log10(results.Min(r => Math.Min(r.Experiment.Published, r.Simulated))) - 0.3;
        double high = Math.Log10(results.Max(r => Math.Max(r.Experiment.Published, r.Simulated))) + 0.6; // room for the labels right of the points
        var identity = plot.Add.Line(low, low, high, high);
        identity.Color = Colors.Gray;
        identity.LinePattern = LinePattern.Dashed;
        identity.LegendText = "simulated = published";
        foreach ((TargetGroup group, Color color) in new[] { (TargetGroup.Calibration, Colors.SteelBlue), (TargetGroup.Validation, Colors.DarkOrange) })
        {
            ValidationResult[] points = [.. results.Where(r => r.Experiment.Group == group)];
            if (points.Length == 0)
            {
                continue;
            }
            double[] xs = [.. points.Select(p => Math.Log10(p.Experiment.Published))];
            double[] ys = [.. points.Select(p => Math.Log10(p.Simulated))];
            var scatter = plot.Add.ScatterPoints(xs, ys);
            scatter.Color = color;
            scatter.MarkerSize = 14;
            scatter.LegendText = group == TargetGroup.Calibration ? "calibration targets" : "validation targets";
            foreach (ValidationResult p in points)
            {
                var label = plot.Add.Text(p.Experiment.Id, Math.Log10(p.Experiment.Published), Math.Log10(p.Simulated));
                label.LabelFontSize = 13;
                label.LabelFontColor = color;
            }
        }
        static string Power(double position)
        {
            double v = Math.Pow(10, position);
            return v.ToString(v >= 1000 ? "N0" : "G3", System.Globalization.CultureInfo.InvariantCulture);
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Power };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Power };
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, "simulated (log scale)", "Simulated against published");
        plot.Axes.Bottom.Label.Text = "published (log scale)";
        plot.Axes.Bottom.Label.FontSize = 22;
        plot.Legend.FontSize = 18;
        plot.ShowLegend(Edge.Right);
        plot.Axes.SetLimits(low, high, low, high);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
