using System.Globalization;
using ScottPlot;
using Sim.Models.Cpu;

namespace Sim.Experiments.Output;

/// <summary>
/// A run's cycles by category as a horizontal bar chart (PNG), in percent of the run's cycles,
/// each bar labelled: sized and lettered to be read when projected.
/// </summary>
public static class CycleChart
{
    public const int Width = 1200;
    public const int Height = 600;

    public static byte[] Png(string title, IReadOnlyDictionary<CycleCategory, long> cycles)
    {
        ArgumentNullException.ThrowIfNull(cycles);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        long total = Math.Max(1, cycles.Values.Sum());
        KeyValuePair<CycleCategory, long>[] shown = [.. cycles.Where(c => c.Value > 0)];
        var plot = new Plot();
        for (int i = 0; i < shown.Length; i++)
        {
            double percent = 100.0 * shown[i].Value / total;
            var bar = new Bar
            {
                Position = shown.Length - i,
                Value = percent,
                Label = string.Create(CultureInfo.InvariantCulture, $"{percent:0.0}%"),
                FillColor = ColorOf(shown[i].Key),
                Orientation = Orientation.Horizontal,
            };
            plot.Add.Bars(new[] { bar }).ValueLabelStyle.FontSize = 22;
        }
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, shown.Length).Select(i => (double)(shown.Length - i))], [.. shown.Select(s => s.Key.ToString())]);
        Label(plot, plot.Axes.Left, plot.Axes.Bottom, "share of the run's cycles (%)", title);
        double largest = shown.Length == 0 ? 100 : shown.Max(c => 100.0 * c.Value / total);
        plot.Axes.SetLimits(0, largest * 1.2, 0.4, shown.Length + 0.6); // room right of the longest bar for its label
        return plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png);
    }

    /// <summary>The lettering every chart of the project shares, large enough to be read when projected.</summary>
    internal static void Label(Plot plot, IAxis categories, IAxis values, string valueLabel, string title)
    {
        categories.TickLabelStyle.FontSize = 22;
        values.TickLabelStyle.FontSize = 20;
        values.Label.Text = valueLabel;
        values.Label.FontSize = 22;
        plot.Axes.Title.Label.Text = title;
        plot.Axes.Title.Label.FontSize = 26;
    }

    /// <summary>
    /// Tells series apart by more than colour: each its own marker and line pattern, so that lines
    /// that coincide (two presets with the same figure) stay visible, one drawn over the other.
    /// </summary>
    internal static void Distinguish(ScottPlot.Plottables.Scatter scatter, int index)
    {
        MarkerShape[] markers = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond, MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.OpenTriangleUp, MarkerShape.Cross];
        LinePattern[] patterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted, LinePattern.DenselyDashed];
        scatter.MarkerShape = markers[index % markers.Length];
        scatter.MarkerSize = 14 - (2 * (index % 3)); // the first largest, so a later one on top of it leaves its rim showing
        scatter.LinePattern = patterns[index % patterns.Length];
    }

    /// <summary>Ticks at whole numbers only, for an axis that counts (guests, exits, cores).</summary>
    internal static void WholeNumbers(IAxis axis) => axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };

    /// <summary>Each category's colour, the same in every chart (one colour per category).</summary>
    public static Color ColorOf(CycleCategory category) => Palette[(int)category];

    private static readonly Color[] Palette =
    [
        Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.IndianRed, Colors.SlateGray, Colors.MediumPurple, Colors.Olive, Colors.GoldenRod,
        Colors.Teal, Colors.Black, Colors.LightPink,
    ];
}
