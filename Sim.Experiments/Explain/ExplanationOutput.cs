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
        CycleChart.Label(plot, plot.Axes.Left, plot.Axes.Bottom, "cycles from the start of the iteration", $"{e.Workload} on {e.Profile}, {e.Architecture}");
        plot.Axes.SetLimits(0, e.TotalCycles * 1.02, -0.6, places.Length - 0.4);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
