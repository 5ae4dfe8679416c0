using ScottPlot;
using Sim.Experiments.Runs;

namespace Sim.Experiments.Output;

/// <summary>
/// A timeline of a guest's CPUs (<see cref="VcpuTimeline"/>): one row per CPU, a coloured bar for
/// each span of what it did, against simulated time. Halted time is left blank. Sized to be
/// projected.
/// </summary>
public static class TimelineChart
{
    private static readonly Dictionary<VcpuTimeline.State, (Color Color, string Name)> Look = new()
    {
        [VcpuTimeline.State.Guest] = (Colors.SteelBlue, "guest code"),
        [VcpuTimeline.State.Spinning] = (Colors.IndianRed, "spinning for a lock"),
        [VcpuTimeline.State.Hypervisor] = (Colors.DarkOrange, "hypervisor (exits, switches)"),
        [VcpuTimeline.State.Descheduled] = (Colors.LightGray, "waiting for its core"),
    };

    public static byte[] Png(string title, VcpuTimeline timeline)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        IReadOnlyList<VcpuTimeline.Span> spans = timeline.Spans;
        var plot = new Plot();
        foreach ((VcpuTimeline.State state, (Color color, string name)) in Look)
        {
            List<Bar> bars = [.. spans.Where(s => s.State == state).Select(s => new Bar
            {
                Position = s.Row, ValueBase = s.StartMs, Value = s.EndMs, FillColor = color, LineWidth = 0, Size = 0.7,
            })];
            if (bars.Count == 0)
            {
                continue;
            }
            var series = plot.Add.Bars(bars);
            series.Horizontal = true;
            series.LegendText = name;
        }
        IReadOnlyList<string> rows = timeline.Rows;
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, rows.Count).Select(i => (double)i)], [.. rows]);
        CycleChart.Label(plot, plot.Axes.Left, plot.Axes.Bottom, "simulated time (ms)", title);
        plot.Axes.Left.TickLabelStyle.FontSize = 18;
        double end = spans.Count > 0 ? spans.Max(s => s.EndMs) : 1;
        plot.Axes.SetLimits(0, end, rows.Count - 0.5, -0.5); // the first CPU on top
        plot.Legend.FontSize = 16;
        plot.ShowLegend(Edge.Bottom);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
