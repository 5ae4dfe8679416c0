using System.Globalization;
using System.Text;
using CsvHelper;
using Sim.Experiments.Output;
using Sim.Models.Cpu;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Comparisons;

/// <summary>A preset comparison as text (the terminal), Markdown (report.md), CSV (presets.csv, exits.csv) and JSON.</summary>
public static class ComparisonReport
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static string ToText(IReadOnlyList<PresetOutcome> outcomes, string workload, string profile, long size, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        PresetOutcome native = outcomes[0];
        var sb = new StringBuilder();
        sb.Append(Ci, $"{workload} on {profile}, size {size:N0}, seed {seed}: every preset on the same seed\n\n");
        sb.Append(Ci, $"{"preset",-9} {"architecture (cpu / mmu / io / hosting)",-52} {"slowdown",9}  figure of merit\n");
        foreach (PresetOutcome o in outcomes)
        {
            string merit = o.Result is { } r ? string.Join(", ", r.FiguresOfMerit.Select(m => $"{m.Name} = {m.Value:G5} {m.Unit}")) : "not run: " + o.NotRun;
            string slowdown = o.SlowdownAgainst(native) is { } s ? s.ToString("0.000", Ci) + "x" : "-";
            sb.Append(Ci, $"{o.Preset,-9} {o.Axes,-52} {slowdown,9}  {merit}\n");
        }
        PresetOutcome[] ran = [.. outcomes.Where(o => o.Result is not null)];
        sb.Append("\ncycles by category (share of each run's cycles):\n");
        sb.Append(Ci, $"  {"",-16}{string.Concat(ran.Select(o => $"{o.Preset,12}"))}\n");
        foreach (CycleCategory c in Enum.GetValues<CycleCategory>())
        {
            if (ran.All(o => o.Result!.CyclesByCategory[c] == 0))
            {
                continue;
            }
            sb.Append(Ci, $"  {c,-16}{string.Concat(ran.Select(o => $"{Share(o, c),11:0.0}%"))}\n");
        }
        foreach (PresetOutcome o in ran.Where(o => o.Result!.Exits.Count > 0))
        {
            sb.Append(Ci, $"\nVM exits under {o.Preset}:        count           cycles   cycles/exit\n");
            foreach ((ExitReason reason, long count, long cycles) in o.Result!.Exits)
            {
                sb.Append(Ci, $"  {reason,-22} {count,12:N0} {cycles,16:N0} {(double)cycles / count,13:N0}\n");
            }
        }
        return sb.ToString();
    }

    public static string ToMarkdown(IReadOnlyList<PresetOutcome> outcomes, string workload, string description, string profile, long size, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        PresetOutcome native = outcomes[0];
        var md = new StringBuilder();
        md.Append(Ci, $"# {workload} on {profile}: every preset\n\n{description}. Size {size:N0}, seed {seed}, the same for every preset.\n\n");
        md.Append("| preset | cpu | mmu | io | hosting | slowdown | figures of merit |\n|---|---|---|---|---|---:|---|\n");
        foreach (PresetOutcome o in outcomes)
        {
            string merit = o.Result is { } r ? string.Join("; ", r.FiguresOfMerit.Select(m => $"{m.Name} = {m.Value:G5} {m.Unit}")) : "not run: " + o.NotRun;
            string slowdown = o.SlowdownAgainst(native) is { } s ? s.ToString("0.000", Ci) : "";
            md.Append(Ci, $"| {o.Preset} | {AxisNames.Of(o.Axes.Cpu)} | {AxisNames.Of(o.Axes.Mmu)} | {AxisNames.Of(o.Axes.Io)} | {AxisNames.Of(o.Axes.Hosting)} | {slowdown} | {merit} |\n");
        }
        md.Append("\n![cycles by category, relative to native](cycles.png)\n\n![VM exits by reason, relative to native](exits.png)\n\n![a figure of merit under every preset (--metric)](figure.png)\n");
        foreach (PresetOutcome o in outcomes.Where(o => o.Result is { Exits.Count: > 0 }))
        {
            md.Append(Ci, $"\n## VM exits under {o.Preset}\n\n| reason | count | cycles | cycles per exit |\n|---|---:|---:|---:|\n");
            foreach ((ExitReason reason, long count, long cycles) in o.Result!.Exits)
            {
                md.Append(Ci, $"| {reason} | {count:N0} | {cycles:N0} | {(double)cycles / count:N0} |\n");
            }
        }
        md.Append("\nThe rows are in `presets.csv`, the exits in `exits.csv`; slowdown is the simulated time to do the same work, relative to native.\n");
        return md.ToString();
    }

    /// <summary>One row per preset: its axes, whether it ran, its time, slowdown, figures of merit and cycles by category.</summary>
    public static void WritePresets(TextWriter writer, IReadOnlyList<PresetOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        string[] merits = outcomes.FirstOrDefault(o => o.Result is not null)?.Result!.FiguresOfMerit.Select(m => $"{m.Name} ({m.Unit})").ToArray() ?? [];
        StatsCsv.WriteHeader(csv, ["preset", "cpu", "mmu", "io", "hosting", "not_run", "simulated_seconds", "slowdown", .. merits,
            .. Enum.GetValues<CycleCategory>().Select(c => "cycles_" + c)]);
        foreach (PresetOutcome o in outcomes)
        {
            csv.WriteField(o.Preset);
            WriteAxes(csv, o.Axes);
            csv.WriteField(o.NotRun ?? "");
            csv.WriteField(o.Result is { } r ? StatsCsv.Number(r.Outcome.SimulatedSeconds) : "");
            csv.WriteField(o.SlowdownAgainst(outcomes[0]) is { } s ? StatsCsv.Number(s) : "");
            for (int i = 0; i < merits.Length; i++)
            {
                csv.WriteField(o.Result is { } m ? StatsCsv.Number(m.FiguresOfMerit[i].Value) : "");
            }
            foreach (CycleCategory c in Enum.GetValues<CycleCategory>())
            {
                csv.WriteField(o.Result is { } m ? m.CyclesByCategory[c].ToString(Ci) : "");
            }
            csv.NextRecord();
        }
    }

    /// <summary>One row per preset and exit reason: count, cycles, cycles per exit.</summary>
    public static void WriteExits(TextWriter writer, IReadOnlyList<PresetOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        using var csv = new CsvWriter(writer, StatsCsv.Configuration(), leaveOpen: true);
        StatsCsv.WriteHeader(csv, ["preset", "reason", "basic_exit_reason", "count", "cycles", "cycles_per_exit"]);
        foreach (PresetOutcome o in outcomes.Where(o => o.Result is not null))
        {
            foreach ((ExitReason reason, long count, long cycles) in o.Result!.Exits)
            {
                csv.WriteField(o.Preset);
                csv.WriteField(reason.ToString());
                csv.WriteField(((int)reason).ToString(Ci));
                csv.WriteField(count.ToString(Ci));
                csv.WriteField(cycles.ToString(Ci));
                csv.WriteField(StatsCsv.Number((double)cycles / count));
                csv.NextRecord();
            }
        }
    }

    public static string ToJson(IReadOnlyList<PresetOutcome> outcomes, string workload, string profile, long size, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        return JsonText.Of(new Dictionary<string, object>
        {
            ["workload"] = workload,
            ["profile"] = profile,
            ["size"] = size,
            ["seed"] = seed,
            ["presets"] = outcomes.Select(o => Json(o, outcomes[0])).ToArray(),
        });
    }

    /// <summary>An architecture's four axes as four CSV fields: cpu, mmu, io, hosting.</summary>
    internal static void WriteAxes(CsvWriter csv, VirtualizationAxes axes)
    {
        csv.WriteField(AxisNames.Of(axes.Cpu));
        csv.WriteField(AxisNames.Of(axes.Mmu));
        csv.WriteField(AxisNames.Of(axes.Io));
        csv.WriteField(AxisNames.Of(axes.Hosting));
    }

    /// <summary>An architecture as a JSON object: its name under <paramref name="key"/>, and its four axes.</summary>
    internal static Dictionary<string, object> Architecture(string key, string name, VirtualizationAxes axes) => new()
    {
        [key] = name,
        ["cpu"] = AxisNames.Of(axes.Cpu),
        ["mmu"] = AxisNames.Of(axes.Mmu),
        ["io"] = AxisNames.Of(axes.Io),
        ["hosting"] = AxisNames.Of(axes.Hosting),
    };

    /// <summary>One outcome as a JSON object: its axes, and its time, slowdown, figures, cycles and exits or why it did not run.</summary>
    internal static Dictionary<string, object> Json(PresetOutcome o, PresetOutcome native)
    {
        Dictionary<string, object> d = Architecture("preset", o.Preset, o.Axes);
        if (o.Result is not { } r)
        {
            d["not_run"] = o.NotRun!;
            return d;
        }
        d["simulated_seconds"] = r.Outcome.SimulatedSeconds;
        d["slowdown"] = o.SlowdownAgainst(native)!.Value;
        d["figures_of_merit"] = r.FiguresOfMerit.Select(m => new Dictionary<string, object> { ["name"] = m.Name, ["value"] = m.Value, ["unit"] = m.Unit }).ToArray();
        d["cycles_by_category"] = r.CyclesByCategory.ToDictionary(k => k.Key.ToString(), k => k.Value);
        d["vm_exits"] = r.Exits.ToDictionary(e => e.Reason.ToString(), e => new Dictionary<string, long> { ["count"] = e.Count, ["cycles"] = e.Cycles });
        return d;
    }

    private static double Share(PresetOutcome o, CycleCategory c) => 100.0 * o.Result!.CyclesByCategory[c] / Math.Max(1, (double)o.Result.Outcome.CoreCycles);
}
