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

    /// <summary>Every probe: preset, guests, whether they fitted, the worst guest's service-level metric (mean over the seeds and its 95% interval), how many seeds missed, the verdict, the guests' mean first figure of merit and memory, whether the mean kept the level, and the busiest host resource; on a mixed host, each group's worst guest on its own level.</summary>
    public static void WriteProbes(TextWriter writer, DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(results);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        string m = study.Slo.Metric;
        StatsCsv.WriteHeader(csv, ["preset", "guests", "memory", "refused", $"worst_{m}", $"worst_{m}_low", $"worst_{m}_high", "unit", "seeds", "seeds_missed", "verdict", "mean_first_metric", "memory_per_guest_mib", "meets_slo", "busiest", "busiest_utilization", .. study.Alongside.Select(g => $"{g.Name}_worst_{g.Slo.Metric}")]);
        foreach (DensityProbe p in results.SelectMany(r => r.Probes))
        {
            csv.WriteField(p.Preset);
            csv.WriteField(p.Guests.ToString(Ci));
            csv.WriteField(p.MemoryIgnored ? "unbounded" : "host");
            csv.WriteField(p.Refused ?? "");
            csv.WriteField(StatsCsv.Number(p.Worst));
            csv.WriteField(StatsCsv.Number(p.Summary.Lower));
            csv.WriteField(StatsCsv.Number(p.Summary.Upper));
            csv.WriteField(p.Unit);
            csv.WriteField(p.Runs.Count.ToString(Ci));
            csv.WriteField(p.SeedsMissed.ToString(Ci));
            csv.WriteField(VerdictText(p.Verdict));
            csv.WriteField(StatsCsv.Number(p.MeanFirstMetric));
            csv.WriteField(StatsCsv.Number(p.MemoryPerGuestMiB));
            csv.WriteField(p.Met ? "yes" : "no");
            HostResource? busiest = p.Use.Busiest;
            csv.WriteField(busiest?.Resource ?? "");
            csv.WriteField(busiest is null ? "" : StatsCsv.Number(busiest.Utilization));
            for (int g = 0; g < study.Alongside.Count; g++)
            {
                csv.WriteField(StatsCsv.Number(p.AlongsideSummary(g).Mean)); // a mixed host's group: its worst guest on its own level
            }
            csv.NextRecord();
        }
    }

    private static string VerdictText(Verdict v) => v switch
    {
        Verdict.Kept => "kept",
        Verdict.Missed => "missed",
        _ => "too close to call",
    };

    /// <summary>Per preset: the density and its 95% interval, what stops the search, the memory's own bound, the binding resource, the probes that broke the search's assumption.</summary>
    public static void WriteDensities(TextWriter writer, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["preset", "density", "bound_by", "memory_bound", "service_level_bound", "density_low", "density_high", "binding_resource", "next_count", "memory_per_guest_mib", "anomalies", "skipped"]);
        foreach (DensityResult r in results)
        {
            csv.WriteField(r.Preset);
            csv.WriteField(r.Density.ToString(Ci));
            csv.WriteField(r.BoundBy);
            csv.WriteField(r.MemoryBound.ToString(Ci));
            csv.WriteField(r.ServiceLevelBound is { } b ? b.ToString(Ci) : "");
            csv.WriteField(r.Skipped is null ? r.Low.ToString(Ci) : "");
            csv.WriteField(r.Skipped is null ? r.High.ToString(Ci) : "");
            csv.WriteField(r.Binding ?? "");
            csv.WriteField(r.NextCount);
            csv.WriteField(r.AtDensity is { } p ? StatsCsv.Number(p.MemoryPerGuestMiB) : "");
            csv.WriteField(string.Join("; ", r.Anomalies));
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
        sb.Append(Ci, $"| preset | guests within the level ({study.Seeds} seed{(study.Seeds == 1 ? "" : "s")} a probe) | bound by | binding resource at the first miss | guests the memory holds | guests the level allows, memory unbounded | host memory per guest (MiB) | probes |\n|---|---|---|---|---|---|---|---|\n");
        foreach (DensityResult r in results)
        {
            sb.Append(r.Skipped is { } why
                ? $"| {r.Preset} | n/a | {why} | | | | | |\n"
                : string.Create(Ci, $"| {r.Preset} | {r.WithInterval} | {r.BoundBy} | {r.Binding ?? "none missed"} | {r.MemoryBound} | {(r.ServiceLevelBound is { } b ? b : r.BoundBy == "service level" ? r.Density : "")} | {r.AtDensity?.MemoryPerGuestMiB:0.##} | {r.Probes.Count} |\n"));
        }
        foreach (DensityResult r in results.Where(r => r.Skipped is null && r.NextCount.Length > 0))
        {
            sb.Append(Ci, $"\n{r.Preset}: {r.Density} guest{(r.Density == 1 ? "" : "s")}; {r.NextCount}.");
        }
        if (results.Any(r => r.Skipped is null && r.NextCount.Length > 0))
        {
            sb.Append('\n');
        }
        foreach (DensityResult r in results.Where(r => r.Anomalies.Count > 0))
        {
            sb.Append(Ci, $"\n{r.Preset} breaks the search's assumption (service no better with more guests): {string.Join("; ", r.Anomalies)}.\n");
        }
        if (Ratio(results) is { } ratio)
        {
            sb.Append(Ci, $"\nContainers (oslevel) fit {ratio.Containers} guests: {string.Join(", ", ratio.Others.Select(o => string.Create(Ci, $"{o.Factor:0.##} times as many as {o.Preset}")))}.\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// Per preset searched, the utilization of every host resource at the density, at the first
    /// count that missed the level and, when memory binds, at the first the level alone misses:
    /// each CPU's busy share with the monitor's and the backends' own, each device, each memory
    /// controller, the host's memory.
    /// </summary>
    public static string Resources(IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var md = new StringBuilder();
        foreach (DensityResult r in results.Where(r => r.Skipped is null && r.Probes.Count > 0))
        {
            (string Label, DensityProbe Probe)[] columns = [.. new (string, DensityProbe?)[]
            {
                ($"at {r.Density} (the density)", r.AtDensity),
                (r.FirstMiss is { } miss ? $"at {miss.Guests} (first miss)" : "", r.FirstMiss is { Runs.Count: > 0, Refused: null } m ? m : null),
                (r.FirstMissUnbounded is { } un ? $"at {un.Guests}, memory unbounded (first miss)" : "", r.FirstMissUnbounded),
            }.Where(c => c.Item2 is not null).Select(c => (c.Item1, c.Item2!))];
            if (columns.Length == 0)
            {
                continue;
            }
            md.Append(Ci, $"\n### {r.Preset}: what binds\n\nBinding resource at the first miss: {r.Binding ?? "none missed"}.");
            if (r.FirstMiss is { Refused: { } refused })
            {
                md.Append(Ci, $" At {r.FirstMiss.Guests} guests: {refused}.");
            }
            md.Append("\n\n| host resource | kind |").Append(string.Concat(columns.Select(c => $" {c.Label} |"))).Append("\n|---|---|").Append(string.Concat(columns.Select(_ => "---:|"))).Append('\n');
            var rows = new List<(string Resource, string Kind)>();
            foreach (HostResource u in columns.SelectMany(c => c.Probe.Use.Resources).Where(u => !rows.Contains((u.Resource, u.Kind))))
            {
                rows.Add((u.Resource, u.Kind));
            }
            foreach ((string resource, string kind) in rows)
            {
                md.Append(Ci, $"| {resource} | {kind} |");
                foreach ((_, DensityProbe probe) in columns)
                {
                    md.Append(probe.Use.Resources.FirstOrDefault(u => u.Resource == resource) is { } u ? $" {Share(u)} |" : " |");
                }
                md.Append('\n');
            }
        }
        return md.ToString();
    }

    /// <summary>A mixed host's interference per preset: each workload's worst guest alone, at the density and at the first miss, and who missed there.</summary>
    public static string Interference(DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(results);
        var md = new StringBuilder("| preset | workload | guests | level | alone on the host | at the density | at the first miss |\n|---|---|---|---|---:|---:|---:|\n");
        foreach (InterferenceRow row in InterferenceRows(study, results))
        {
            string guests = row.Searched ? string.Create(Ci, $"{row.GuestsAtDensity}{(row.GuestsAtFirstMiss is { } n ? $" ({n} at the first miss)" : "")}") : row.GuestsAtDensity.ToString(Ci);
            md.Append(Ci, $"| {row.Preset} | {row.Name}{(row.Searched ? " (searched)" : "")} | {guests} | {row.Level} | {Figure(row.Alone, row.Unit)} | {Figure(row.AtDensity, row.Unit)} | {Figure(row.AtFirstMiss, row.Unit)} |\n");
        }
        foreach (DensityResult r in results.Where(r => r.Skipped is null && r.FirstMiss is { Refused: null, Runs.Count: > 0 }))
        {
            DensityProbe miss = r.FirstMiss!;
            var missed = new List<string>();
            if (!miss.Slo.IsMet(miss.Worst))
            {
                missed.Add($"the searched {study.SearchedName} guests");
            }
            missed.AddRange(miss.GroupsMissing.Select(g => $"{g.Name} alongside"));
            md.Append(Ci, $"\n{r.Preset}: at {miss.Guests} searched guests, {string.Join(" and ", missed)} missed the level.");
        }
        return md.Append('\n').ToString();
    }

    /// <summary>One workload of a mixed host under one preset: its worst guest's metric (mean and 95% interval) alone, at the density and at the first miss.</summary>
    internal sealed record InterferenceRow(string Preset, string Name, bool Searched, int GuestsAtDensity, int? GuestsAtFirstMiss, ServiceLevel Level, string Unit,
        Engine.Statistics.ReplicationSummary? Alone, Engine.Statistics.ReplicationSummary? AtDensity, Engine.Statistics.ReplicationSummary? AtFirstMiss);

    internal static IEnumerable<InterferenceRow> InterferenceRows(DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        foreach (DensityResult r in results.Where(r => r.Skipped is null && r.Alone.Count > 0))
        {
            DensityProbe? density = r.AtDensity;
            DensityProbe? miss = r.FirstMiss is { Refused: null, Runs.Count: > 0 } m ? m : null;
            string unit = r.Alone[0].Unit;
            yield return new InterferenceRow(r.Preset, study.SearchedName, true, r.Density, miss?.Guests, study.Slo, unit,
                Ran(r.Alone[0]), Ran(density), Ran(miss));
            for (int g = 0; g < study.Alongside.Count; g++)
            {
                GuestGroup group = study.Alongside[g];
                yield return new InterferenceRow(r.Preset, group.Name, false, group.Guests, miss is null ? null : group.Guests, group.Slo, r.Alone[g + 1].Unit,
                    Ran(r.Alone[g + 1]), density is null ? null : density.AlongsideSummary(g), miss?.AlongsideSummary(g));
            }
        }
    }

    private static Engine.Statistics.ReplicationSummary? Ran(DensityProbe? p) => p is { Refused: null, Runs.Count: > 0 } ? p.Summary : null;

    /// <summary>A summary as the report writes it: "1,540 us (1,400 to 1,700)", without the interval from one seed; "-" when not run.</summary>
    private static string Figure(Engine.Statistics.ReplicationSummary? s, string unit) => s is not { } v || double.IsNaN(v.Mean) ? "-"
        : string.Create(Ci, $"{v.Mean:#,0.#} {unit}") + (double.IsFinite(v.HalfWidth) && v.HalfWidth > 0 ? string.Create(Ci, $" ({v.Lower:#,0.#} to {v.Upper:#,0.#})") : "");

    /// <summary>A mixed host's interference as CSV: per preset and workload, the worst guest's metric alone, at the density and at the first miss, each with its 95% interval.</summary>
    public static void WriteInterference(TextWriter writer, DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(results);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["preset", "workload", "searched", "guests_at_density", "guests_at_first_miss", "slo", "unit", "alone", "alone_low", "alone_high", "at_density", "at_density_low", "at_density_high", "at_first_miss", "at_first_miss_low", "at_first_miss_high"]);
        foreach (InterferenceRow row in InterferenceRows(study, results))
        {
            csv.WriteField(row.Preset);
            csv.WriteField(row.Name);
            csv.WriteField(row.Searched ? "yes" : "no");
            csv.WriteField(row.GuestsAtDensity.ToString(Ci));
            csv.WriteField(row.GuestsAtFirstMiss is { } n ? n.ToString(Ci) : "");
            csv.WriteField(row.Level.ToString());
            csv.WriteField(row.Unit);
            foreach (Engine.Statistics.ReplicationSummary? s in new[] { row.Alone, row.AtDensity, row.AtFirstMiss })
            {
                csv.WriteField(s is { } v ? StatsCsv.Number(v.Mean) : "");
                csv.WriteField(s is { } lo ? StatsCsv.Number(lo.Lower) : "");
                csv.WriteField(s is { } hi ? StatsCsv.Number(hi.Upper) : "");
            }
            csv.NextRecord();
        }
    }

    /// <summary>A resource's busy share as the report writes it; a CPU's with its monitor's and backends' shares.</summary>
    private static string Share(HostResource u)
    {
        string busy = string.Create(Ci, $"{100 * u.Utilization:0.0}%");
        var parts = new List<string>();
        if (u.MonitorShare > 0.0005)
        {
            parts.Add(string.Create(Ci, $"monitor {100 * u.MonitorShare:0.0}%"));
        }
        if (u.BackendShare > 0.0005)
        {
            parts.Add(string.Create(Ci, $"backends {100 * u.BackendShare:0.0}%"));
        }
        return parts.Count == 0 ? busy : $"{busy} ({string.Join(", ", parts)})";
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
        md.Append(Ci, $"of {study.Presets.Max(p => study.At(p, 1).HostCoresInUse)} core(s) and {(b.HostMemoryMiB is { } host ? $"{host} MiB" : "unbounded memory")} while every guest keeps `{study.Slo}`");
        md.Append(study.Alongside.Count == 0 ? "; " : $", beside {string.Join(" and ", study.Alongside.Select(g => string.Create(Ci, $"{g.Guests} guest{(g.Guests == 1 ? "" : "s")} of `{g.Name}` keeping `{g.Slo}`")))} (a mixed host: the guest counts below are the searched ones, the ones alongside are added to them); ");
        md.Append(Ci, $"{MemoryPolicy(study)}. Seeds {b.Seed} to {b.Seed + (ulong)study.Seeds - 1}, size {b.ResolveWorkload().Size} per guest.\n\n");
        md.Append(Table(study, results));
        md.Append("\n![the worst guest's service-level metric against the number of guests](density.png)\n\n");
        md.Append(Ci, $"Each point is {study.Seeds} simulation{(study.Seeds == 1 ? "" : "s")} of that many guests, one a seed (`probes.csv`): the mean of the worst guest's metric");
        md.Append(study.Seeds > 1 ? " with its 95% interval. " : ". ");
        md.Append("The search doubles the guests until the mean misses the level or the memory is full, then halves the gap; the density's interval runs from the most guests the whole interval keeps to the most it does not miss. ");
        md.Append("A container's memory is what its processes touch. See docs/density.md for what the model leaves out.\n");
        if (study.Alongside.Count > 0)
        {
            md.Append("\n## Interference\n\nEach workload's worst guest on its own level: one guest alone on the host, then with the others at the density and at the first count that missed (the mean over the seeds, with its 95% interval; `interference.csv`). The difference is what the guests cost each other through the host's shared CPUs, caches, memory and devices.\n\n");
            md.Append(Interference(study, results));
            md.Append("\n![each workload's worst guest against one guest alone on the host](interference.png)\n");
        }
        string resources = Resources(results);
        if (resources.Length > 0)
        {
            md.Append("\n## What binds\n\nEach host resource's busy share (the mean over the seeds); a CPU's with the part of it spent in the monitor (VM transitions, exit handlers, device models, translation, world switches) and in backend threads; the host's memory as the guests' and the host's own over what it has.\n");
            md.Append(resources);
        }
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
                scatter.LegendText = ignored ? $"{r.Preset}, memory unbounded: {r.ServiceLevelBound} guests" : $"{r.Preset}: {r.WithInterval} guests ({r.BoundBy})";
                DensityProbe[] spread = [.. ran.Where(p => level && double.IsFinite(p.Summary.HalfWidth) && p.Summary.Lower > (log ? 0 : double.NegativeInfinity))];
                if (spread.Length > 0)
                {
                    // The 95% interval of the worst guest's metric over the seeds.
                    var bars = plot.Add.ErrorBar([.. spread.Select(p => (double)p.Guests)], [.. spread.Select(p => Y(p.Worst))], [.. spread.Select(p => Y(p.Summary.Upper) - Y(p.Worst))]);
                    bars.YErrorNegative = [.. spread.Select(p => Y(p.Worst) - Y(p.Summary.Lower))];
                    bars.Color = color;
                    bars.LineWidth = 2;
                }
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
