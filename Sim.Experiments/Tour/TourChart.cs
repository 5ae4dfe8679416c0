using ScottPlot;
using Sim.Experiments.Output;
using Sim.Models.Cpu;

namespace Sim.Experiments.Tour;

/// <summary>
/// Where the cycles go, for every workload and architecture of a tour on one shared axis: a
/// stacked bar per architecture that ran, its layers the cycle categories, its height in units of
/// the workload's native cycles (so a bar's height is its slowdown in cycles), the workloads side
/// by side in groups. Sized and lettered to be projected.
/// </summary>
public static class TourChart
{
    public const int Width = 1800;
    public const int Height = 900;

    /// <summary>Short names for the bars' ticks, the long ones in the legend's caption.</summary>
    private static string Short(string architecture) => architecture switch
    {
        "native" => "nat",
        "type1" => "t1",
        "type2" => "t2",
        "paravirt" => "pv",
        "oslevel" => "os",
        "binary-translation" => "bt",
        _ => architecture,
    };

    public static byte[] Png(string title, IReadOnlyList<TourResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        int slots = results.Max(t => t.Outcomes.Count) + 1; // a gap between groups
        var bars = new List<(double Position, TourOutcome Outcome, double Native)>();
        for (int g = 0; g < results.Count; g++)
        {
            double native = Math.Max(1, (double)results[g].Outcomes[0].TotalCycles);
            for (int a = 0; a < results[g].Outcomes.Count; a++)
            {
                if (results[g].Outcomes[a].Ran)
                {
                    bars.Add(((g * slots) + a, results[g].Outcomes[a], native));
                }
            }
        }
        CycleCategory[] shown = [.. Enum.GetValues<CycleCategory>().Where(c => bars.Any(b => b.Outcome.Cycles(c) > 0))];
        var plot = new Plot();
        for (int k = 0; k < shown.Length; k++)
        {
            var layer = new List<Bar>();
            foreach ((double position, TourOutcome o, double native) in bars)
            {
                // A category the longer run spent a few cycles less on (a timer tick landing elsewhere) draws as nothing, not below the axis.
                double below = shown.Take(k).Sum(c => Math.Max(0, o.Cycles(c))) / native;
                layer.Add(new Bar { Position = position, ValueBase = below, Value = below + (Math.Max(0, o.Cycles(shown[k])) / native), FillColor = CycleChart.ColorOf(shown[k]) });
            }
            plot.Add.Bars(layer).LegendText = shown[k].ToString();
        }
        double tallest = bars.Max(b => shown.Sum(c => Math.Max(0, b.Outcome.Cycles(c))) / b.Native);
        plot.Axes.Bottom.SetTicks([.. bars.Select(b => b.Position)], [.. bars.Select(b => Short(b.Outcome.Architecture))]);
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, "cycles, relative to the workload's native cycles", title);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 18;
        for (int g = 0; g < results.Count; g++)
        {
            var name = plot.Add.Text(results[g].Workload, (g * slots) + ((results[g].Outcomes.Count - 1) / 2.0), tallest * 1.12);
            name.LabelFontSize = 24;
            name.LabelBold = true;
            name.LabelAlignment = Alignment.LowerCenter;
        }
        for (int g = 0; g < results.Count; g++)
        {
            for (int a = 0; a < results[g].Outcomes.Count; a++)
            {
                if (!results[g].Outcomes[a].Ran)
                {
                    // An architecture that cannot run the workload keeps its place, marked, so that no one reads the gap as zero cost.
                    var absent = plot.Add.Text($"{Short(results[g].Outcomes[a].Architecture)}: n/a", (g * slots) + a, tallest * 0.02);
                    absent.LabelFontSize = 16;
                    absent.LabelRotation = -90;
                    absent.LabelAlignment = Alignment.MiddleLeft;
                    absent.LabelFontColor = Colors.Gray;
                }
            }
        }
        var line = plot.Add.HorizontalLine(1);
        line.LineColor = Colors.Black.WithAlpha(0.5);
        line.LinePattern = LinePattern.Dashed;
        plot.Legend.FontSize = 18;
        plot.ShowLegend(Edge.Right);
        plot.Axes.SetLimits(-0.8, (results.Count * slots) - 1.2, 0, tallest * 1.25);
        plot.Axes.Bottom.Label.Text = "nat native, t1 type1, t2 type2, pv paravirt, os oslevel, bt binary translation";
        plot.Axes.Bottom.Label.FontSize = 18;
        return plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png);
    }
}
