using Sim.Models.Cpu;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Explain;

/// <summary>One phase of an explained iteration, as <c>virtsim explain --json</c> and the lecture page show it; <paramref name="Holes"/>: the virtualization holes it met (<see cref="Phase.Holes"/>).</summary>
public sealed record PhaseView(ulong Offset, ulong Cycles, string Category, string Where, string What, bool IsEvent, IReadOnlyList<string> Holes);

/// <summary>The iteration's cycles in one category (<see cref="CycleCategory"/>).</summary>
public sealed record CategoryView(string Category, ulong Cycles);

/// <summary>
/// The iteration's entries into the monitor for one reason (a VM exit's basic reason, or the trap
/// or callout that hands a software monitor the instruction), how many, and the cycles each took
/// from the exit to the guest's next instruction: the exit, the handler, the device model, the
/// entry.
/// </summary>
public sealed record ExitView(string Reason, int Count, ulong CyclesEach);

/// <summary>One architecture's explanation of the operation.</summary>
/// <param name="Name">The preset it is on the profile, or its CPU virtualization's name.</param>
/// <param name="Scenario">The scenario file (YAML) that runs the same workload under it with <c>virtsim run</c> and explains it with <c>virtsim explain</c>.</param>
public sealed record ArchitectureView(
    string Name, string Cpu, string Mmu, string Io, string Hosting, ulong TotalCycles,
    IReadOnlyList<PhaseView> Phases, IReadOnlyList<CategoryView> Categories, IReadOnlyList<ExitView> Exits, string Scenario);

/// <summary>
/// An operation explained under several architectures, in the shape <c>virtsim explain --json</c>
/// prints and the lecture page draws (<c>virtsim serve</c>): one code path, so the two show the
/// same numbers to the digit.
/// </summary>
public sealed record ExplanationView(string Workload, string Description, string Profile, IReadOnlyList<ArchitectureView> Architectures)
{
    /// <summary>The views of <paramref name="explanations"/>, all of one workload on one profile.</summary>
    public static ExplanationView Of(IReadOnlyList<Explanation> explanations)
    {
        ArgumentNullException.ThrowIfNull(explanations);
        if (explanations.Count == 0)
        {
            throw new ArgumentException("Nothing was explained.", nameof(explanations));
        }
        Explanation first = explanations[0];
        return new ExplanationView(first.Workload, first.Description, first.Profile, [.. explanations.Select(ArchitectureOf)]);
    }

    /// <summary>The view as indented JSON, its names in camel case.</summary>
    public string ToJson() => ViewJson.Serialize(this);

    private static ArchitectureView ArchitectureOf(Explanation e)
    {
        VirtualizationAxes a = e.Axes;
        PhaseView[] phases = [.. e.Phases.Select(p => new PhaseView(p.Offset, p.Cycles, p.Category.ToString(), p.Where, p.What, p.IsEvent, p.Holes))];
        CategoryView[] categories = [.. e.Phases.GroupBy(p => p.Category).OrderBy(g => g.Key).Select(g => new CategoryView(g.Key.ToString(), (ulong)g.Sum(p => (decimal)p.Cycles)))];
        return new ArchitectureView(e.Name, AxisNames.Of(a.Cpu), AxisNames.Of(a.Mmu), AxisNames.Of(a.Io), AxisNames.Of(a.Hosting), e.TotalCycles,
            phases, categories, ExitsOf(e), ScenarioOf(e));
    }

    /// <summary>
    /// The entries into the monitor: each event in the hypervisor or the VM transition that is not
    /// a VM entry, its cycles counted to the next phase back in the guest (or the iteration's end).
    /// </summary>
    private static ExitView[] ExitsOf(Explanation e)
    {
        var exits = new List<(string Reason, ulong Cycles)>();
        for (int i = 0; i < e.Phases.Count; i++)
        {
            Phase p = e.Phases[i];
            if (!p.IsEvent || p.Category is not (CycleCategory.VmTransition or CycleCategory.Hypervisor) || p.What.StartsWith("VM entry", StringComparison.Ordinal)
                || p.What.EndsWith(Core.EmulatedInTranslationCache, StringComparison.Ordinal))
            {
                continue;
            }
            Phase? back = e.Phases.Skip(i + 1).FirstOrDefault(q => q.Where.StartsWith("guest", StringComparison.Ordinal));
            exits.Add((p.What.StartsWith(VmExit, StringComparison.Ordinal) ? p.What[VmExit.Length..] : p.What, (back?.Offset ?? e.TotalCycles) - p.Offset));
        }
        return [.. exits.GroupBy(x => x.Reason, StringComparer.Ordinal).Select(g => new ExitView(g.Key, g.Count(), (ulong)Math.Round(g.Average(x => (double)x.Cycles))))];
    }

    private const string VmExit = "VM exit: ";

    private static string ScenarioOf(Explanation e) =>
        ScenarioText.Of(e.Workload, Models.Hardware.HardwareProfiles.Get(e.Profile), e.Axes, size: null, $"'{e.Workload}' under {e.Name} on {e.Profile}: 'virtsim explain THIS-FILE' steps through one operation, 'virtsim run THIS-FILE' runs it.");
}
