using ScottPlot;
using Sim.Experiments.Comparisons;
using Sim.Models.Cpu;

namespace Sim.Experiments.Output;

/// <summary>
/// The presets that ran, side by side: one stacked bar each, its cycles by category in units of
/// native's total cycles, so that the height of a bar is its slowdown in cycles and its layers
/// say where the extra cycles went. Sized and lettered to be read when projected.
/// </summary>
public static class PresetCycleChart
{
    public static byte[] Png(string title, IReadOnlyList<PresetOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        PresetOutcome[] ran = [.. outcomes.Where(o => o.Result is not null)];
        double native = Math.Max(1, (double)ran[0].Result!.Outcome.CoreCycles);
        CycleCategory[] shown = [.. Enum.GetValues<CycleCategory>().Where(c => ran.Any(o => o.Result!.CyclesByCategory[c] > 0))];
        var plot = new Plot();
        for (int k = 0; k < shown.Length; k++)
        {
            CycleCategory c = shown[k];
            var bars = new List<Bar>();
            for (int i = 0; i < ran.Length; i++)
            {
                double below = shown.Take(k).Sum(b => ran[i].Result!.CyclesByCategory[b]) / native;
                bars.Add(new Bar
                {
                    Position = i,
                    ValueBase = below,
                    Value = below + (ran[i].Result!.CyclesByCategory[c] / native),
                    FillColor = CycleChart.ColorOf(c),
                });
            }
            var series = plot.Add.Bars(bars);
            series.LegendText = c.ToString();
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, ran.Length).Select(i => (double)i)], [.. ran.Select(o => o.Preset)]);
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, "cycles, relative to native", title);
        plot.Legend.FontSize = 18;
        plot.ShowLegend(Edge.Right);
        double tallest = ran.Max(o => o.Result!.Outcome.CoreCycles / native);
        plot.Axes.SetLimits(-0.6, ran.Length - 0.4, 0, tallest * 1.1);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
