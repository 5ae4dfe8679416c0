using System.Globalization;
using ScottPlot;

namespace Sim.Experiments.Output;

/// <summary>
/// Where guests' host memory goes, as horizontal stacked bars (PNG): one bar per guest or
/// policy, one segment per part, in MiB, each part the same colour in every bar and named in the
/// legend; each bar's total at its end.
/// </summary>
public static class MemoryChart
{
    /// <summary>One bar: its label and its parts, in MiB, in the order they are stacked.</summary>
    public sealed record Row(string Label, IReadOnlyList<(string Part, double MiB)> Parts);

    public static byte[] Png(string title, IReadOnlyList<Row> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        string[] parts = [.. rows.SelectMany(r => r.Parts.Select(p => p.Part)).Distinct()];
        Color[] palette = [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.IndianRed, Colors.MediumPurple, Colors.SlateGray, Colors.GoldenRod, Colors.Teal];
        var plot = new Plot();
        for (int k = 0; k < parts.Length; k++)
        {
            var bars = new List<Bar>();
            for (int i = 0; i < rows.Count; i++)
            {
                double below = rows[i].Parts.TakeWhile(p => p.Part != parts[k]).Sum(p => p.MiB);
                double value = rows[i].Parts.Where(p => p.Part == parts[k]).Sum(p => p.MiB);
                if (value > 0)
                {
                    bars.Add(new Bar { Position = rows.Count - i, ValueBase = below, Value = below + value, FillColor = palette[k % palette.Length], Orientation = Orientation.Horizontal });
                }
            }
            plot.Add.Bars(bars).LegendText = parts[k];
        }
        double largest = rows.Count == 0 ? 1 : rows.Max(r => r.Parts.Sum(p => p.MiB));
        for (int i = 0; i < rows.Count; i++)
        {
            double total = rows[i].Parts.Sum(p => p.MiB);
            var label = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $" {total:0.#} MiB"), total, rows.Count - i);
            label.LabelFontSize = 20;
            label.LabelAlignment = Alignment.MiddleLeft;
        }
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - i))], [.. rows.Select(r => r.Label)]);
        CycleChart.Label(plot, plot.Axes.Left, plot.Axes.Bottom, "host memory (MiB)", title);
        plot.Axes.SetLimits(0, largest * 1.3, 0.4, rows.Count + 0.6); // room right of the longest bar for its total
        plot.Legend.FontSize = 18;
        plot.Legend.Alignment = Alignment.LowerRight;
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
