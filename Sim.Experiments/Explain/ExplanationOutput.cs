using ScottPlot;
using Sim.Experiments.Output;
using Sim.Models.Hardware;

namespace Sim.Experiments.Explain;

/// <summary>An explanation as a Chrome trace-event file (opens in ui.perfetto.dev) and as a timeline picture.</summary>
public static class ExplanationOutput
{
    /// <summary>
    /// The phases as complete events ("ph": "X") of the Trace Event Format, one track ("tid") per
    /// place in the order the places first appear, times in microseconds of the profile's clock.
    /// </summary>
    public static string ChromeTrace(Explanation e, HardwareProfile profile)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(profile);
        string[] places = [.. e.Phases.Select(p => p.Where).Distinct()];
        double microsecondsPerCycle = 1e6 / profile.FrequencyHz;
        var events = new List<object>
        {
            new Dictionary<string, object> { ["name"] = "process_name", ["ph"] = "M", ["pid"] = 1, ["args"] = new Dictionary<string, object> { ["name"] = $"{e.Workload} on {e.Profile}, {e.Architecture}" } },
        };
        events.AddRange(places.Select((w, i) => (object)new Dictionary<string, object>
        {
            ["name"] = "thread_name", ["ph"] = "M", ["pid"] = 1, ["tid"] = i + 1, ["args"] = new Dictionary<string, object> { ["name"] = w },
        }));
        events.AddRange(e.Phases.Select(p => (object)new Dictionary<string, object>
        {
            ["name"] = p.What, ["cat"] = p.Category.ToString(), ["ph"] = "X", ["pid"] = 1, ["tid"] = Array.IndexOf(places, p.Where) + 1,
            ["ts"] = p.Offset * microsecondsPerCycle, ["dur"] = p.Cycles * microsecondsPerCycle,
            ["args"] = new Dictionary<string, object> { ["cycles"] = p.Cycles, ["start_cycle"] = p.Offset },
        }));
        return JsonText.Of(new Dictionary<string, object> { ["traceEvents"] = events, ["displayTimeUnit"] = "ns" });
    }

    /// <summary>A timeline: one row per place, each phase a bar from its first cycle to its last, coloured by its cycle category; large enough to project.</summary>
    public static byte[] Timeline(Explanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        string[] places = [.. e.Phases.Select(p => p.Where).Distinct()];
        var plot = new Plot();
        foreach (Phase p in e.Phases)
        {
            int row = places.Length - 1 - Array.IndexOf(places, p.Where); // the first place on top
            var bar = plot.Add.Rectangle(p.Offset, p.Offset + Math.Max(1, p.Cycles), row - 0.35, row + 0.35);
            bar.FillColor = CycleChart.ColorOf(p.Category);
            bar.LineColor = CycleChart.ColorOf(p.Category);
        }
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, places.Length).Select(i => (double)i)], [.. places.Reverse()]);
        CycleChart.Label(plot, plot.Axes.Left, plot.Axes.Bottom, "cycles from the start of the iteration", $"{e.Workload} on {e.Profile}: {e.Name}");
        plot.Axes.SetLimits(0, e.TotalCycles * 1.02, -0.6, places.Length - 0.4);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }

    /// <summary>
    /// Several explanations of one workload on one shared cycle axis: a row per architecture (the
    /// first on top), each phase a bar from its first cycle to its last coloured by its cycle
    /// category, and every phase wide enough to hold it labelled with where it ran; a legend of
    /// the categories. Side by side on their own axes the timelines mislead; here a longer bar is
    /// a longer time.
    /// </summary>
    public static byte[] Comparison(IReadOnlyList<Explanation> explanations)
    {
        ArgumentNullException.ThrowIfNull(explanations);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        const int Width = 1800;
        int height = Math.Max(500, 160 + (110 * explanations.Count));
        double longest = Math.Max(1, explanations.Max(e => (double)e.TotalCycles));
        var plot = new Plot();
        var seen = new HashSet<Sim.Models.Cpu.CycleCategory>();
        for (int i = 0; i < explanations.Count; i++)
        {
            double row = explanations.Count - 1 - i;
            foreach (Phase p in explanations[i].Phases)
            {
                var bar = plot.Add.Rectangle(p.Offset, p.Offset + Math.Max(1, p.Cycles), row - 0.38, row + 0.38);
                bar.FillColor = CycleChart.ColorOf(p.Category);
                // A white edge parts neighbouring phases where they are wide enough to see; on narrow ones it would paint the bar white.
                bool wide = p.Cycles / longest * (Width - 500) > 6;
                bar.LineColor = wide ? Colors.White : CycleChart.ColorOf(p.Category);
                bar.LineWidth = wide ? 1 : 0;
                if (seen.Add(p.Category))
                {
                    bar.LegendText = p.Category.ToString();
                }
                // A label where it fits: about 9 pixels a character at this size.
                string label = p.Where;
                if (p.Cycles / longest * (Width - 500) > (label.Length * 9) + 8)
                {
                    var text = plot.Add.Text(label, p.Offset + (p.Cycles / 2.0), row);
                    text.LabelFontSize = 14;
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontColor = p.Category is Sim.Models.Cpu.CycleCategory.WorldSwitch or Sim.Models.Cpu.CycleCategory.Hypervisor ? Colors.White : Colors.Black;
                }
            }
            var total = plot.Add.Text(explanations[i].TotalCycles.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), explanations[i].TotalCycles + (longest * 0.005), row);
            total.LabelFontSize = 16;
            total.LabelAlignment = Alignment.MiddleLeft;
        }
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, explanations.Count).Select(i => (double)(explanations.Count - 1 - i))], [.. explanations.Select(e => e.Name)]);
        CycleChart.Label(plot, plot.Axes.Left, plot.Axes.Bottom, "cycles from the start of the iteration (one axis for all)", $"One iteration of {explanations[0].Workload} on {explanations[0].Profile}");
        plot.Legend.FontSize = 16;
        plot.ShowLegend(Edge.Right);
        plot.Axes.SetLimits(0, longest * 1.1, -0.6, explanations.Count - 0.4);
        return plot.GetImage(Width, height).GetImageBytes(ImageFormat.Png);
    }
}
