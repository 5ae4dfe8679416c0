using System.Globalization;
using ScottPlot;
using Sim.Experiments.Output;

namespace Sim.Experiments.Validation;

/// <summary>
/// Each reference experiment's error against its own tolerance: a row per experiment (calibration
/// targets above, validation targets below), its tolerance as a grey band around zero and its
/// relative error (simulated against published) as a bar, green inside the band and red outside,
/// labelled with the error. One axis of percent serves every row whatever its unit (cycles,
/// seconds, fractions, ratios), which a plot of the values themselves cannot. Sized to be projected.
/// </summary>
public static class ValidationChart
{
    /// <summary>Errors beyond this many percent are drawn to it and labelled with their value, so that one wild miss does not flatten the rest.</summary>
    private const double ClipPercent = 150;

    public static byte[] Png(IReadOnlyList<ValidationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        ValidationResult[] rows = [.. results.OrderBy(r => r.Experiment.Group == TargetGroup.Calibration ? 0 : 1)];
        double widest = Math.Min(ClipPercent, rows.Select(r => Math.Max(Math.Abs(r.Error), r.Experiment.Tolerance) * 100).DefaultIfEmpty(10).Max()) * 1.25;
        var plot = new Plot();
        for (int i = 0; i < rows.Length; i++)
        {
            double y = rows.Length - 1 - i; // the first row on top
            ValidationResult r = rows[i];
            double tolerance = r.Experiment.Tolerance * 100;
            var band = plot.Add.Rectangle(-tolerance, tolerance, y - 0.42, y + 0.42);
            band.FillColor = Colors.LightGray.WithAlpha(0.6);
            band.LineWidth = 0;
            double error = r.Error * 100;
            double drawn = Math.Clamp(error, -ClipPercent, ClipPercent);
            var bar = plot.Add.Rectangle(Math.Min(0, drawn), Math.Max(0, drawn), y - 0.28, y + 0.28);
            bar.FillColor = r.Within ? Colors.SeaGreen : Colors.IndianRed;
            bar.LineWidth = 0;
            string label = string.Create(CultureInfo.InvariantCulture, $"{error:+0.0;-0.0}%{(Math.Abs(error) > ClipPercent ? " (clipped)" : "")} (tol. {tolerance:0}%)");
            var text = plot.Add.Text(label, drawn >= 0 ? Math.Max(drawn, tolerance) : Math.Min(drawn, -tolerance), y);
            text.LabelFontSize = 14;
            text.LabelAlignment = drawn >= 0 ? Alignment.MiddleLeft : Alignment.MiddleRight;
        }
        int calibration = rows.Count(r => r.Experiment.Group == TargetGroup.Calibration);
        if (calibration > 0 && calibration < rows.Length)
        {
            var split = plot.Add.HorizontalLine(rows.Length - calibration - 0.5);
            split.LineColor = Colors.Black;
            split.LinePattern = LinePattern.Dashed;
        }
        var zero = plot.Add.VerticalLine(0);
        zero.LineColor = Colors.Black;
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, rows.Length).Select(i => (double)(rows.Length - 1 - i))],
            [.. rows.Select(r => (r.Experiment.Group == TargetGroup.Calibration ? "[cal] " : "") + r.Experiment.Id)]);
        CycleChart.Label(plot, plot.Axes.Left, plot.Axes.Bottom, "error against the published value (%); grey: the row's tolerance", "Simulated against published: each row's error and tolerance");
        plot.Axes.Left.TickLabelStyle.FontSize = 14;
        plot.Axes.SetLimits(-widest * 1.6, widest * 1.6, -0.6, rows.Length - 0.4); // room beside the bars for their labels
        int height = Math.Max(CycleChart.Height, 140 + (34 * rows.Length));
        return plot.GetImage(CycleChart.Width + 300, height).GetImageBytes(ImageFormat.Png);
    }
}
