using System.Globalization;
using ScottPlot;
using Sim.Experiments.Comparisons;

namespace Sim.Experiments.Output;

/// <summary>
/// One figure of merit of a comparison, a bar per preset that ran, each labelled with its value,
/// and a preset that could not run marked so that its gap is not read as zero. Sized to be projected.
/// </summary>
public static class FigureChart
{
    public static byte[] Png(string title, IReadOnlyList<PresetOutcome> outcomes, string metric)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        var plot = new Plot();
        string unit = "";
        double tallest = 0;
        for (int i = 0; i < outcomes.Count; i++)
        {
            if (outcomes[i].Result?.FiguresOfMerit.FirstOrDefault(f => f.Name == metric) is { } figure && double.IsFinite(figure.Value))
            {
                unit = figure.Unit;
                tallest = Math.Max(tallest, figure.Value);
                var bars = plot.Add.Bars(new[] { new Bar { Position = i, Value = figure.Value, FillColor = Colors.SteelBlue, Label = figure.Value.ToString("G4", CultureInfo.InvariantCulture) } });
                bars.ValueLabelStyle.FontSize = 20;
            }
        }
        double top = tallest > 0 ? tallest * 1.15 : 1;
        for (int i = 0; i < outcomes.Count; i++)
        {
            if (outcomes[i].Result is null)
            {
                var absent = plot.Add.Text("not run", i, top * 0.02);
                absent.LabelFontSize = 18;
                absent.LabelFontColor = Colors.Gray;
                absent.LabelAlignment = Alignment.LowerCenter;
            }
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, outcomes.Count).Select(i => (double)i)], [.. outcomes.Select(o => o.Preset)]);
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, unit.Length > 0 ? $"{metric} ({unit})" : metric, title);
        plot.Axes.SetLimits(-0.6, outcomes.Count - 0.4, 0, top);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
