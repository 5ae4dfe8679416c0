using System.Globalization;
using System.Text;
using CsvHelper;
using ScottPlot;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Density;

/// <summary>A density study's results: the probes and the densities as CSV, a Markdown report, and the picture of the service level against the guests.</summary>
public static class DensityReport
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>Every probe: preset, guests, whether they fitted, the worst guest's service-level metric, the guests' mean first figure of merit, whether the level was kept.</summary>
    public static void WriteProbes(TextWriter writer, DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(results);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["preset", "guests", "memory", "refused", $"worst_{study.Slo.Metric}", "unit", "mean_first_metric", "memory_per_guest_mib", "meets_slo"]);
        foreach (DensityProbe p in results.SelectMany(r => r.Probes))
        {
            csv.WriteField(p.Preset);
            csv.WriteField(p.Guests.ToString(Ci));
            csv.WriteField(p.MemoryIgnored ? "unbounded" : "host");
            csv.WriteField(p.Refused ?? "");
            csv.WriteField(StatsCsv.Number(p.Worst));
            csv.WriteField(p.Unit);
            csv.WriteField(StatsCsv.Number(p.MeanFirstMetric));
            csv.WriteField(StatsCsv.Number(p.MemoryPerGuestMiB));
            csv.WriteField(p.Met ? "yes" : "no");
            csv.NextRecord();
        }
    }

    /// <summary>Per preset: the density, what bounds it, the memory's own bound, and against the containers (oslevel) when they were searched.</summary>
    public static void WriteDensities(TextWriter writer, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["preset", "density", "bound_by", "memory_bound", "service_level_bound", "memory_per_guest_mib", "skipped"]);
        foreach (DensityResult r in results)
        {
            csv.WriteField(r.Preset);
            csv.WriteField(r.Density.ToString(Ci));
            csv.WriteField(r.BoundBy);
            csv.WriteField(r.MemoryBound.ToString(Ci));
            csv.WriteField(r.ServiceLevelBound is { } b ? b.ToString(Ci) : "");
            csv.WriteField(r.AtDensity is { } p ? StatsCsv.Number(p.MemoryPerGuestMiB) : "");
            csv.WriteField(r.Skipped ?? "");
            csv.NextRecord();
        }
    }

    /// <summary>The table the command prints and the report holds.</summary>
    public static string Table(DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(results);
        var sb = new StringBuilder();
        sb.Append("| preset | guests within the level | bound by | guests the memory holds | guests the level allows, memory unbounded | host memory per guest (MiB) | probes |\n|---|---|---|---|---|---|---|\n");
        foreach (DensityResult r in results)
        {
            sb.Append(r.Skipped is { } why
                ? $"| {r.Preset} | n/a | {why} | | | | |\n"
                : string.Create(Ci, $"| {r.Preset} | {r.Density} | {r.BoundBy} | {r.MemoryBound} | {(r.ServiceLevelBound is { } b ? b : r.BoundBy == "service level" ? r.Density : "")} | {r.AtDensity?.MemoryPerGuestMiB:0.##} | {r.Probes.Count} |\n"));
        }
        if (Ratio(results) is { } ratio)
        {
            sb.Append(Ci, $"\nContainers (oslevel) fit {ratio.Containers} guests: {string.Join(", ", ratio.Others.Select(o => string.Create(Ci, $"{o.Factor:0.##} times as many as {o.Preset}")))}.\n");
        }
        return sb.ToString();
    }

    /// <summary>How many times as many guests containers fit as each other preset searched (claim 7 of the source text), when oslevel and another preset were searched and both fit some.</summary>
    public static (int Containers, IReadOnlyList<(string Preset, double Factor)> Others)? Ratio(IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.FirstOrDefault(r => r.Preset == "oslevel" && r.Skipped is null) is not { Density: > 0 } containers)
        {
            return null;
        }
        var others = results.Where(r => r.Preset != "oslevel" && r.Skipped is null && r.Density > 0).Select(r => (r.Preset, (double)containers.Density / r.Density)).ToList();
        return others.Count == 0 ? null : (containers.Density, others);
    }

    public static string ToMarkdown(DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(results);
        var md = new StringBuilder();
        var b = study.Base;
        md.Append(Ci, $"# Guest density: {study.Name}\n\n");
        md.Append(Ci, $"How many guests of `{b.Workload}`{(b.RequestRate is { } rate ? $" at {rate.ToString("G6", Ci)} requests/s each" : "")} fit on one `{b.Profile}` host ");
        md.Append(Ci, $"of {b.HostCoresInUse} core(s) and {(b.HostMemoryMiB is { } host ? $"{host} MiB" : "unbounded memory")} while every guest keeps `{study.Slo}`; ");
        md.Append(Ci, $"{MemoryPolicy(study)}. Seed {b.Seed}, size {b.ResolveWorkload().Size} per guest.\n\n");
        md.Append(Table(study, results));
        md.Append("\n![the worst guest's service-level metric against the number of guests](density.png)\n\n");
        md.Append("Each point is one simulation of that many guests (`probes.csv`); the search doubles the guests until the level is missed or the memory is full, then halves the gap. ");
        md.Append("A container's memory is what its processes touch. See docs/density.md for what the model leaves out.\n");
        return md.ToString();
    }

    /// <summary>How the study's virtual machines hold memory on the host: reserved or backed on touch, the overcommit policy and ratio, the base system.</summary>
    public static string MemoryPolicy(DensityStudy study)
    {
        ArgumentNullException.ThrowIfNull(study);
        WorkloadScenario b = study.Base;
        string memory = study.Overcommit == "none"
            ? b.GuestMemoryOnTouch ? $"each virtual machine has {b.GuestMemoryMiB} MiB, backed as it touches it" : $"each virtual machine reserves {b.GuestMemoryMiB} MiB, whole (no overcommit)"
            : string.Create(Ci, $"each virtual machine has {b.GuestMemoryMiB} MiB, backed as it touches it, and the host admits VMs up to {study.OvercommitRatio:0.##} times its memory (overcommit {study.Overcommit}")
                + (study.Balloons ? string.Create(Ci, $": each VM's balloon holds {study.BalloonMiB} MiB") : "")
                + (study.Merges ? string.Create(Ci, $"{(study.Balloons ? ", and" : ":")} the host merges equal pages, ksmd scanning {b.KsmPagesToScan ?? Models.Virtualization.MonitorParameters.DefaultKsmPagesToScan} pages every {b.KsmSleepMs:0.##} ms") : "")
                + ")";
        if (b.HostSwapMiB > 0 && (b.GuestMemoryOnTouch || study.Overcommit != "none"))
        {
            memory += $"; the host swaps guest pages to {b.HostSwapMiB} MiB on its SSD";
        }
        return b.GuestBaseSystem is { } system
            ? memory + $"; each VM's boot leaves {system.CacheBytes >> 20} MiB of its image's files cached and {system.AnonymousBytes >> 20} MiB of daemons' memory"
            : memory;
    }

    /// <summary>The worst guest's service-level metric against the guests, one line per preset, with the level as a dashed line; logarithmic when the values span more than a hundredfold.</summary>
    public static byte[] Png(DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(results);
        Fonts.Default = "DejaVu Sans"; // this machine kind ships DejaVu; without a font ScottPlot draws no text
        var plot = new Plot();
        Color[] colors = [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.IndianRed, Colors.MediumPurple];
        bool level = study.PlotMetric == study.Slo.Metric; // the worst guest against the level, or the guests' mean of another figure
        double Value(DensityProbe p) => level ? p.Worst : p.MeanFigures.FirstOrDefault(f => f.Name == study.PlotMetric)?.Value ?? double.NaN;
        bool Plotted(DensityProbe p) => p.Refused is null && double.IsFinite(Value(p)) && Value(p) > 0; // a point a log axis can show
        DensityProbe[] all = [.. results.SelectMany(r => r.Probes).Where(Plotted)];
        bool log = all.Length > 0 && all.Max(Value) > 100 * Math.Max(all.Min(Value), level ? study.Slo.Bound / 100 : 0);
        double Y(double v) => log ? Math.Log10(v) : v;
        int line = 0, bounds = 0;
        foreach (DensityResult r in results.Where(r => r.Skipped is null))
        {
            Color color = colors[line++ % colors.Length];
            foreach (bool ignored in new[] { false, true })
            {
                DensityProbe[] ran = [.. r.Probes.Where(p => p.MemoryIgnored == ignored && Plotted(p))];
                if (ran.Length == 0)
                {
                    continue;
                }
                var scatter = plot.Add.Scatter(ran.Select(p => (double)p.Guests).ToArray(), ran.Select(p => Y(Value(p))).ToArray());
                scatter.Color = color;
                scatter.LineWidth = 3;
                CycleChart.Distinguish(scatter, line - 1); // each preset its marker, so that coinciding curves stay visible
                scatter.LinePattern = ignored ? LinePattern.Dotted : LinePattern.Solid; // the pattern says whether memory was bounded
                scatter.LegendText = ignored ? $"{r.Preset}, memory unbounded: {r.ServiceLevelBound} guests" : $"{r.Preset}: {r.Density} guests ({r.BoundBy})";
            }
            if (r.BoundBy is "memory" or "overcommit ratio")
            {
                // Presets whose memory bounds coincide (VMs of one size) each keep a visible line: the later one narrower, on top.
                var bound = plot.Add.VerticalLine(r.MemoryBound + 0.5);
                bound.Color = color;
                bound.LinePattern = bounds++ % 2 == 0 ? LinePattern.Dashed : LinePattern.Dotted;
                bound.LineWidth = Math.Max(1.5f, 5 - (1.5f * (bounds - 1)));
                bound.LegendText = r.BoundBy == "memory" ? $"{r.Preset}: the host's memory holds {r.MemoryBound}" : $"{r.Preset}: the overcommit ratio admits {r.MemoryBound}";
            }
        }
        if (level)
        {
            var slo = plot.Add.HorizontalLine(Y(study.Slo.Bound));
            slo.LinePattern = LinePattern.Dashed;
            slo.Color = Colors.Black;
            slo.LineWidth = 2;
            slo.LegendText = $"service level: {study.Slo}";
        }
        string unit = log ? ", log scale" : "";
        string? shownUnit = level ? (all.Length > 0 ? all[0].Unit : null) : all.Select(p => p.MeanFigures.First(f => f.Name == study.PlotMetric).Unit).FirstOrDefault();
        string measure = shownUnit is { Length: > 0 } u ? $" ({u})" : "";
        CycleChart.Label(plot, plot.Axes.Bottom, plot.Axes.Left, $"{(level ? "worst guest's" : "guests' mean")} {study.PlotMetric}{measure}{unit}", $"Guest density: {study.Base.Workload} on {study.Base.Profile}");
        plot.Axes.Bottom.Label.Text = "guests on the host";
        plot.Axes.Bottom.Label.FontSize = 22;
        CycleChart.WholeNumbers(plot.Axes.Bottom);
        if (log)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => Math.Pow(10, v) is var x && x >= 1000 ? x.ToString("N0", Ci) : x.ToString("G3", Ci) };
        }
        plot.Legend.FontSize = 16;
        plot.ShowLegend(Edge.Right);
        return plot.GetImage(CycleChart.Width, CycleChart.Height).GetImageBytes(ImageFormat.Png);
    }
}
