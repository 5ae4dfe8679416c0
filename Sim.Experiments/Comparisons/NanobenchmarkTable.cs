using System.Globalization;
using System.Text;
using Sim.Experiments.Calibration;
using Sim.Experiments.Explain;
using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads.Nanobenchmarks;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Comparisons;

/// <summary>
/// The nanobenchmarks of Adams and Agesen (ASPLOS 2006, Figure 4) under the monitors they
/// compared, on one profile: native, VMware's binary translator and its first VT-x monitor, both
/// hosted (VMware Player) and with shadow paging; and the bare-metal VT-x hypervisor with KVM's
/// shadow MMU beside them. Cycles per operation by differences (<see cref="NanobenchmarkRunner"/>),
/// and forkwait per fork; for each cell, the monitor entries that set its cost (an explained
/// steady-state iteration: <see cref="Explanation"/>; forkwait's from its run). Nothing here is
/// fitted to their figures: each column is what the mechanisms give.
/// </summary>
public static class NanobenchmarkTable
{
    /// <summary>Forks run for forkwait's row (per fork; the paper ran 40,000).</summary>
    public const int ForkWaitForks = 1_000;

    /// <summary>The columns: a name and the axes, native first.</summary>
    public static IReadOnlyList<(string Name, VirtualizationAxes Axes)> Columns { get; } =
    [
        ("native", VirtualizationAxes.Native),
        ("binary translation", new(CpuVirtualization.BinaryTranslation, MmuVirtualization.Shadow, IoVirtualization.Emulated, Hosting.Hosted)),
        ("hardware assist", new(CpuVirtualization.HardwareAssist, MmuVirtualization.Shadow, IoVirtualization.Emulated, Hosting.Hosted)),
        ("VT-x, KVM's shadow MMU", new(CpuVirtualization.HardwareAssist, MmuVirtualization.Shadow, IoVirtualization.Emulated, Hosting.BareMetal)),
    ];

    /// <summary>One cell: its figure and the monitor entries that set it.</summary>
    public readonly record struct Cell(double Value, string Mechanism);

    /// <summary>Every cell (in parallel: each is its own deterministic simulation): per column, the nanobenchmarks' cycles per operation, then forkwait's microseconds per fork; each with its monitor entries.</summary>
    public static Cell[,] Measure(HardwareProfile profile, int iterations)
    {
        ArgumentNullException.ThrowIfNull(profile);
        IReadOnlyList<Nanobenchmark> benchmarks = Nanobenchmark.All;
        var cells = new Cell[benchmarks.Count + 1, Columns.Count];
        Parallel.For(0, cells.Length, k =>
        {
            int row = k / Columns.Count, column = k % Columns.Count;
            VirtualizationAxes axes = Columns[column].Axes;
            if (row < benchmarks.Count)
            {
                double cycles = NanobenchmarkRunner.Measure(profile, benchmarks[row], iterations, axes).CyclesPerOperation;
                cells[row, column] = new Cell(cycles, EntriesOf(Explanation.Of(profile, benchmarks[row], axes)));
            }
            else
            {
                WorkloadRunResult fork = WorkloadRun.Run(profile, new ForkWait(), ForkWaitForks, seed: 1, axes: axes);
                cells[row, column] = new Cell(fork.Outcome.SimulatedSeconds * 1e6 / ForkWaitForks, ForkEntriesOf(fork, axes));
            }
        });
        return cells;
    }

    /// <summary>An explained iteration's entries into the monitor, by reason, with the cycles of each; or, with none, where its cycles went.</summary>
    private static string EntriesOf(Explanation e)
    {
        ArchitectureView view = ExplanationView.Of([e]).Architectures[0];
        if (view.Exits.Count > 0)
        {
            return string.Join("; ", view.Exits.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Count} × {x.Reason} ({x.CyclesEach:N0} each)")));
        }
        ulong total = Math.Max(1, view.TotalCycles);
        string inCache = view.Phases.FirstOrDefault(p => p.What.EndsWith(Models.Cpu.Core.EmulatedInTranslationCache, StringComparison.Ordinal)) is { } emulated
            ? emulated.What + "; " : "";
        return inCache + "no monitor entry: " + string.Join(", ", view.Categories.Where(c => c.Cycles > 0).OrderByDescending(c => c.Cycles)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Category} {100.0 * c.Cycles / total:N0}%")));
    }

    /// <summary>Forkwait's entries into the monitor per fork: its VM exits by reason, or a software monitor's traced page-table writes and translations.</summary>
    private static string ForkEntriesOf(WorkloadRunResult r, VirtualizationAxes axes)
    {
        var ci = CultureInfo.InvariantCulture;
        if (axes.IsNative)
        {
            return "no monitor";
        }
        string PerFork(double n) => (n / ForkWaitForks).ToString("N1", ci);
        if (axes.Cpu == CpuVirtualization.HardwareAssist)
        {
            return string.Join("; ", r.Exits.Where(x => x.Count >= ForkWaitForks / 10).OrderByDescending(x => x.Count).Select(x => $"{PerFork(x.Count)} × {x.Reason}")) + " per fork";
        }
        return $"{PerFork(r.Stat("host.monitor.shadow", "page_table_writes"))} traced page-table writes, {PerFork(r.Stat("host.monitor.translation_cache", "adapted_writes"))} adapted writes called out, "
            + $"{PerFork(r.Stat("host.monitor.shadow", "hidden_faults"))} hidden faults, {PerFork(r.Stat("host.monitor.translation_cache", "translations"))} lines translated per fork";
    }

    /// <summary>What is in force in each column on <paramref name="profile"/>: the TPR shadow, how guest page-table writes are handled, prefetch, and the sensitive instructions.</summary>
    private static IEnumerable<string> MechanismsOf(HardwareProfile profile, VirtualizationAxes axes)
    {
        if (axes.IsNative)
        {
            yield return "the instructions themselves (the calibrated native column)";
            yield break;
        }
        bool lazy = MonitorParameters.LazyShadowMmu(axes.Cpu, axes.Hosting);
        if (axes.Cpu == CpuVirtualization.HardwareAssist)
        {
            yield return profile.Features.TprShadow ? "TPR shadow: MOV CR8 exits only below the TPR threshold" : "no TPR shadow: every MOV CR8 exits";
            yield return "RDTSC runs in the guest (TSC offsetting); the exception bitmap has #PF only";
        }
        else
        {
            yield return "kernel code translated line by line into the translation cache, jumps chained, returns and entries looked up";
            yield return "CLI, STI, PUSHF, POPF, MOV CR8 and RDTSC emulated in the translation cache; other sensitive instructions call out";
        }
        yield return lazy ? "guest leaf page tables out of sync after their first write (KVM's unsync pages), synced at CR3 load or INVLPG"
            : axes.Cpu == CpuVirtualization.BinaryTranslation
                ? $"guest page-table writes traced and emulated until a store has faulted {TranslationCache.AdaptAfterFaults} times, then called out by its adapted translation"
                : "every guest page-table write traced and emulated";
        yield return lazy ? "8 shadow entries prefetched around a hidden fault" : "no prefetch";
    }

    public static string ToMarkdown(HardwareProfile profile, Cell[,] cells, int iterations)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(cells);
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append(ci, $"# The nanobenchmarks under the monitors of Adams and Agesen, on {profile.Name}\n\n");
        md.Append("Generated by `virtsim nanobench`. Cycles per operation, measured as the difference of runs of\n");
        md.Append(ci, $"{iterations:N0} and {2 * iterations:N0} iterations less the same for the empty loop; forkwait in microseconds per fork + wait\n");
        md.Append(ci, $"over {ForkWaitForks:N0} forks. The binary-translation and hardware-assist monitors are hosted and shadow-page, as the VMware\n");
        md.Append("Player 1.0.1 that Adams and Agesen measured (ASPLOS 2006, Figure 4); the last column is the bare-metal VT-x hypervisor\n");
        md.Append("with KVM's shadow MMU. No handler cost is fitted to any column. The native column is the\n");
        md.Append("calibrated one of [calibration.md](calibration.md); how each monitor works is in [virtualization.md](virtualization.md).\n\n");
        md.Append("| nanobenchmark |");
        foreach ((string name, VirtualizationAxes axes) in Columns)
        {
            md.Append(ci, $" {name} |");
        }
        md.Append("\n|---|");
        md.Append(string.Concat(Enumerable.Repeat("---:|", Columns.Count)));
        md.Append('\n');
        for (int row = 0; row < cells.GetLength(0); row++)
        {
            string name = row < Nanobenchmark.All.Count ? Nanobenchmark.All[row].Name : "forkwait (us per fork)";
            md.Append(ci, $"| {name} |");
            for (int column = 0; column < Columns.Count; column++)
            {
                md.Append(' ').Append(cells[row, column].Value.ToString(row < Nanobenchmark.All.Count ? "N0" : "N1", ci)).Append(" |");
            }
            md.Append('\n');
        }
        md.Append("\n| column | cpu | mmu | io | hosting | mechanisms in force |\n|---|---|---|---|---|---|\n");
        foreach ((string name, VirtualizationAxes axes) in Columns)
        {
            md.Append(ci, $"| {name} | {AxisNames.Of(axes.Cpu)} | {AxisNames.Of(axes.Mmu)} | {AxisNames.Of(axes.Io)} | {AxisNames.Of(axes.Hosting)} | {string.Join("; ", MechanismsOf(profile, axes))} |\n");
        }
        md.Append("\n## What sets each cell\n\n");
        md.Append("The entries into the monitor of one steady-state iteration (`virtsim explain`: a VM exit's basic reason, or the\n");
        md.Append("trap or callout that hands a software monitor the instruction), with the cycles from each entry to the guest's\n");
        md.Append("next instruction; with none, where the iteration's cycles went. Forkwait's are counted over its run, per fork.\n\n");
        for (int column = 1; column < Columns.Count; column++)
        {
            md.Append(ci, $"**{Columns[column].Name}**\n\n| nanobenchmark | entries into the monitor |\n|---|---|\n");
            for (int row = 0; row < cells.GetLength(0); row++)
            {
                string name = row < Nanobenchmark.All.Count ? Nanobenchmark.All[row].Name : "forkwait";
                md.Append(ci, $"| {name} | {cells[row, column].Mechanism} |\n");
            }
            md.Append('\n');
        }
        return md.ToString().TrimEnd('\n') + "\n";
    }
}
