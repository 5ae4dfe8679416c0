using ScottPlot;
using Sim.Experiments.Comparisons;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Output;

/// <summary>
/// The VM exits of the presets that ran, side by side: a stacked bar each, one layer per exit
/// reason, its height the cycles of those exits (exit to entry, handler included) in percent of
/// native's total cycles: what each kind of trap costs the workload. The axis is scaled to the
/// tallest bar, however small, and a preset without exits says so. Sized to be projected.
/// </summary>
public static class ExitChart
{
    private static readonly Color[] Palette =
    [
        Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.IndianRed, Colors.MediumPurple, Colors.Olive, Colors.GoldenRod, Colors.Teal,
        Colors.SlateGray, Colors.Black, Colors.LightPink, Colors.Sienna,
    ];

    public static byte[] Png(string title, IReadOnlyList<PresetOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        PresetOutcome[] ran = [.. outcomes.Where(o => o.Result is not null)];
        double native = Math.Max(1, (double)ran[0].Result!.Outcome.CoreCycles) / 100; // in percent of native's cycles
        ExitReason[] reasons = [.. Enum.GetValues<ExitReason>().Where(e => ran.Any(o => o.Result!.Exits.Any(x => x.Reason == e)))];
        var plot = new Plot();
        double tallest = 0;
        for (int k = 0; k < reasons.Length; k++)
        {
            var bars = new List<Bar>();
            for (int i = 0; i < ran.Length; i++)
            {
                double Cycles(ExitReason r) => ran[i].Result!.Exits.FirstOrDefault(x => x.Reason == r).Cycles / native;
                double below = reasons.Take(k).Sum(Cycles);
                bars.Add(new Bar { Position = i, ValueBase = below, Value = below + Cycles(reasons[k]), FillColor = Palette[k % Palette.Length] });
                tallest = Math.Max(tallest, below + Cycles(reasons[k]));
            }
            plot.Add.Bars(bars).LegendText = reasons[k].ToString();
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, ran.Length).Select(i => (double)i)], [.. ran.Select(o => o.Preset)]);
        double top = tallest > 0 ? tallest * 1.15 : 1;
        for (int i = 0; i < ran.Length; i++)
        {
            if (ran[i].Result!.Exits.Count == 0)
            {
                var none = plot.Add.Text("no VM exits", i, top * 0.02);
                none.LabelFontSize = 18;
                none.LabelFontColor = Colors.Gray;
                none.LabelAlignment = Alignment.LowerCenter;
            }
        }
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, "exit cycles, % of native's cycles", title);
        if (reasons.Length > 0)
        {
            plot.Legend.FontSize = 18;
            plot.ShowLegend(Edge.Right); // an empty legend beside the plot leaves the whole picture blank
        }
        plot.Axes.SetLimits(-0.6, ran.Length - 0.4, 0, top);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
