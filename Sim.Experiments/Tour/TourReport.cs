using System.Globalization;
using System.Text;
using CsvHelper;
using Sim.Experiments.Output;
using Sim.Models.Cpu;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Tour;

/// <summary>A tour's results as text (the terminal), Markdown (report.md), CSV (slowdowns.csv, exits.csv, cycles.csv) and JSON (summary.json).</summary>
public static class TourReport
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>What each architecture of the tour is, in the words of the field, with examples.</summary>
    public static string Meaning(string architecture) => architecture switch
    {
        "native" => "the bare machine, the baseline",
        "type1" => "a bare-metal VT-x hypervisor with EPT, devices emulated in it (ESX, KVM)",
        "type2" => "the same monitor hosted by an OS, devices in a user process (Workstation, VirtualBox)",
        "paravirt" => "a modified guest kernel on hypercalls, split drivers (Xen PV)",
        "oslevel" => "containers: one kernel, namespaces and cgroups (LXC, OpenVZ)",
        "binary-translation" => "a monitor that rewrites the guest kernel's code (VMware before VT-x)",
        _ => architecture,
    };

    /// <summary>Every trap kind of every run that ran, with its workload and architecture, in the tour's order.</summary>
    public static IEnumerable<(string Workload, string Architecture, long Operations, TrapKind Trap)> Traps(IReadOnlyList<TourResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return results.SelectMany(t => t.Outcomes.SelectMany(o => o.Traps().Select(k => (t.Workload, o.Architecture, t.Size, k))));
    }

    public static string ToText(ArchitectureTour tour, IReadOnlyList<TourResult> results)
    {
        ArgumentNullException.ThrowIfNull(tour);
        ArgumentNullException.ThrowIfNull(results);
        string[] names = [.. results[0].Outcomes.Select(o => o.Architecture)];
        int[] widths = [.. names.Select(n => Math.Max(7, n.Length) + 2)];
        var sb = new StringBuilder();
        sb.Append(Ci, $"Where virtualization spends its cycles: {tour.Profile}, seed {tour.Seed}, each workload natively and under five architectures.\n");
        sb.Append("Every figure is of warm operations: each run is made at the size shown and at twice it, and the difference reported (start-up left out).\n\n");
        foreach (TourOutcome o in results[0].Outcomes)
        {
            sb.Append(Ci, $"  {o.Architecture,-19} {o.Axes.ToString(),-52} {Meaning(o.Architecture)}\n");
        }
        sb.Append("\nSlowdown: simulated time for the same work, relative to native (-: cannot run there; report.md says why).\n\n");
        sb.Append(Ci, $"  {"workload",-18}{string.Concat(names.Select((n, i) => n.PadLeft(widths[i])))}\n");
        foreach (TourResult t in results)
        {
            sb.Append(Ci, $"  {$"{t.Workload} ({t.Size:N0})",-18}{string.Concat(t.Outcomes.Select((o, i) => (o.SlowdownAgainst(t.Outcomes[0]) is { } s ? s.ToString("0.000", Ci) : "-").PadLeft(widths[i])))}\n");
        }
        sb.Append("\nTraps per operation: VM exits by reason (VT-x: cycles from exit to entry, handler included) and the instructions\na software monitor intercepted (~: its monitor's cycles shared over them).\n\n");
        sb.Append(Ci, $"  {"workload",-12} {"architecture",-19} {"reason",-26} {"per op",8} {"cycles each",12}\n");
        foreach ((string workload, string architecture, long operations, TrapKind trap) in Traps(results))
        {
            sb.Append(Ci, $"  {workload,-12} {architecture,-19} {trap.Kind,-26} {(double)trap.Count / operations,8:0.###} {(trap.Exact ? "" : "~") + ((double)trap.Cycles / trap.Count).ToString("N0", Ci),12}\n");
        }
        if (results.Any(t => t.Workload == "in" && t.Outcomes.Any(o => o.SlowdownAgainst(t.Outcomes[0]) < 1)))
        {
            sb.Append('\n').Append(Explain.Explanation.LegacyBusNote);
        }
        if (results.Any(t => t.Workload == "netperf-rr" && t.Outcomes.Any(o => o.Axes.Io == IoVirtualization.Paravirtual && o.SlowdownAgainst(t.Outcomes[0]) < 1)))
        {
            sb.Append("\nOn 'netperf-rr': paravirt beats native because it drives another NIC. Natively the e1000 driver makes seven uncached\n" +
                "register accesses per transaction (300 ns each over PCI Express, assumed), all on the critical path; the paravirtual\n" +
                "guest posts to shared rings and notifies its backend, whose work in the hypervisor mostly overlaps the wait for the\n" +
                "peer's answer (cycles.csv: less guest kernel and less idle time than native, more hypervisor time).\n");
        }
        return sb.ToString();
    }

    public static string ToMarkdown(ArchitectureTour tour, IReadOnlyList<TourResult> results)
    {
        ArgumentNullException.ThrowIfNull(tour);
        ArgumentNullException.ThrowIfNull(results);
        var md = new StringBuilder();
        md.Append(Ci, $"# Where virtualization spends its cycles\n\nProfile {tour.Profile}, seed {tour.Seed}: each workload natively and under five architectures, every run its own simulation. Each is run at the size shown and at twice it, and every figure below is the difference: the cost of warm operations, with start-up (boot, process creation, a translator's first pass over the kernel) left out.\n\n");
        md.Append("| architecture | cpu / mmu / io / hosting | what it is |\n|---|---|---|\n");
        foreach (TourOutcome o in results[0].Outcomes)
        {
            md.Append(Ci, $"| {o.Architecture} | {o.Axes} | {Meaning(o.Architecture)} |\n");
        }
        md.Append("\n## Slowdown against native\n\nSimulated time for the same work, relative to native.\n\n");
        md.Append(Ci, $"| workload | size | {string.Join(" | ", results[0].Outcomes.Select(o => o.Architecture))} |\n|---|---:|{string.Concat(results[0].Outcomes.Select(_ => "---:|"))}\n");
        foreach (TourResult t in results)
        {
            md.Append(Ci, $"| {t.Workload} | {t.Size:N0} | {string.Join(" | ", t.Outcomes.Select(o => o.SlowdownAgainst(t.Outcomes[0]) is { } s ? s.ToString("0.000", Ci) : "not run"))} |\n");
        }
        md.Append("\n![cycles by category, relative to native, every workload and architecture on one axis](cycles.png)\n\n## Traps and what each costs\n\n");
        md.Append("VT-x exits are timed one by one (exit to entry, the handler included); a software monitor's interceptions are not, so their cycles are the monitor's (transitions, handlers, device models, translation) shared over them, marked ~.\n\n");
        md.Append("| workload | architecture | reason | per operation | cycles each |\n|---|---|---|---:|---:|\n");
        foreach ((string workload, string architecture, long operations, TrapKind trap) in Traps(results))
        {
            md.Append(Ci, $"| {workload} | {architecture} | {trap.Kind} | {(double)trap.Count / operations:0.###} | {(trap.Exact ? "" : "~")}{(double)trap.Cycles / trap.Count:N0} |\n");
        }
        md.Append("\n## Workloads, and what could not run\n\n");
        foreach (TourResult t in results)
        {
            md.Append(Ci, $"- **{t.Workload}** ({t.Size:N0}): {t.Description}.");
            foreach (TourOutcome o in t.Outcomes.Where(o => o.NotRun is not null))
            {
                md.Append(Ci, $" Not under {o.Architecture}: {o.NotRun}.");
            }
            md.Append('\n');
        }
        md.Append("\nEvery figure is in `slowdowns.csv`, `exits.csv` and `cycles.csv`; `virtsim compare --workload NAME` and `virtsim explain --workload NAME --compare` go deeper into one workload.\n");
        return md.ToString();
    }

    /// <summary>One row per workload, architecture and figure of merit: its axes, whether it ran, the warm operations' simulated seconds and slowdown, and the figure as the run at twice the size reports it.</summary>
    public static void WriteSlowdowns(TextWriter writer, IReadOnlyList<TourResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["workload", "size", "architecture", "cpu", "mmu", "io", "hosting", "not_run", "warm_seconds", "slowdown", "figure_at_twice_the_size", "value", "unit"]);
        foreach (TourResult t in results)
        {
            foreach (TourOutcome o in t.Outcomes)
            {
                IEnumerable<(string Name, string Value, string Unit)> figures = o.Twice is { } r
                    ? r.FiguresOfMerit.Select(m => (m.Name, StatsCsv.Number(m.Value), m.Unit))
                    : [("", "", "")];
                foreach ((string name, string value, string unit) in figures)
                {
                    csv.WriteField(t.Workload);
                    csv.WriteField(t.Size.ToString(Ci));
                    csv.WriteField(o.Architecture);
                    Comparisons.ComparisonReport.WriteAxes(csv, o.Axes);
                    csv.WriteField(o.NotRun ?? "");
                    csv.WriteField(o.Ran ? StatsCsv.Number(o.Seconds) : "");
                    csv.WriteField(o.SlowdownAgainst(t.Outcomes[0]) is { } s ? StatsCsv.Number(s) : "");
                    csv.WriteField(name);
                    csv.WriteField(value);
                    csv.WriteField(unit);
                    csv.NextRecord();
                }
            }
        }
    }

    /// <summary>One row per trap kind of every run's warm operations (<see cref="TourOutcome.Traps"/>): count, cycles, per operation; exact says whether they were timed one by one.</summary>
    public static void WriteExits(TextWriter writer, IReadOnlyList<TourResult> results)
    {
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["workload", "architecture", "reason", "count", "cycles", "per_operation", "cycles_each", "exact"]);
        foreach ((string workload, string architecture, long operations, TrapKind trap) in Traps(results))
        {
            csv.WriteField(workload);
            csv.WriteField(architecture);
            csv.WriteField(trap.Kind);
            csv.WriteField(trap.Count.ToString(Ci));
            csv.WriteField(trap.Cycles.ToString(Ci));
            csv.WriteField(StatsCsv.Number((double)trap.Count / operations));
            csv.WriteField(StatsCsv.Number((double)trap.Cycles / trap.Count));
            csv.WriteField(trap.Exact ? "true" : "false");
            csv.NextRecord();
        }
    }

    /// <summary>One row per workload, architecture (that ran) and cycle category: the warm operations' cycles, and in units of native's.</summary>
    public static void WriteCycles(TextWriter writer, IReadOnlyList<TourResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["workload", "architecture", "category", "cycles", "relative_to_native"]);
        foreach (TourResult t in results)
        {
            double native = Math.Max(1, (double)t.Outcomes[0].TotalCycles);
            foreach (TourOutcome o in t.Outcomes.Where(o => o.Ran))
            {
                foreach (CycleCategory c in Enum.GetValues<CycleCategory>())
                {
                    csv.WriteField(t.Workload);
                    csv.WriteField(o.Architecture);
                    csv.WriteField(c.ToString());
                    csv.WriteField(o.Cycles(c).ToString(Ci));
                    csv.WriteField(StatsCsv.Number(o.Cycles(c) / native));
                    csv.NextRecord();
                }
            }
        }
    }

    public static string ToJson(ArchitectureTour tour, IReadOnlyList<TourResult> results)
    {
        ArgumentNullException.ThrowIfNull(tour);
        ArgumentNullException.ThrowIfNull(results);
        return JsonText.Of(new Dictionary<string, object>
        {
            ["profile"] = tour.Profile,
            ["seed"] = tour.Seed,
            ["workloads"] = results.Select(t => new Dictionary<string, object>
            {
                ["workload"] = t.Workload,
                ["size"] = t.Size,
                ["architectures"] = t.Outcomes.Select(o => Json(o, t)).ToArray(),
            }).ToArray(),
        });
    }

    private static Dictionary<string, object> Json(TourOutcome o, TourResult t)
    {
        Dictionary<string, object> d = Comparisons.ComparisonReport.Architecture("architecture", o.Architecture, o.Axes);
        if (!o.Ran)
        {
            d["not_run"] = o.NotRun ?? "";
            return d;
        }
        d["warm_seconds"] = o.Seconds;
        d["slowdown"] = o.SlowdownAgainst(t.Outcomes[0])!.Value;
        d["warm_cycles_by_category"] = Enum.GetValues<CycleCategory>().ToDictionary(c => c.ToString(), o.Cycles);
        d["traps"] = o.Traps().Select(k => new Dictionary<string, object> { ["reason"] = k.Kind, ["count"] = k.Count, ["cycles"] = k.Cycles, ["exact"] = k.Exact }).ToArray();
        return d;
    }
}
