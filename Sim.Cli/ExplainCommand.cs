using System.CommandLine;
using Sim.Experiments.Explain;
using Sim.Experiments.Output;
using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;
using Sim.Workloads.Processes;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim explain --workload in --preset type1</c>: one operation of a nanobenchmark traced
/// through the machine and told step by step with cycle counts (the guest's instruction, the VM
/// exit and its reason, the hypervisor's handler, the device model, the VM entry), under one
/// architecture or, with --compare, natively and under every architecture that can run it; a
/// Chrome trace (Perfetto) and a timeline picture of each.
/// </summary>
internal static class ExplainCommand
{
    public static Command Build()
    {
        var workload = new Option<string>("--workload") { Description = $"The operation to explain: a nanobenchmark ({string.Join(", ", Nanobenchmark.All.Select(n => n.Name))}) or an lmbench latency ({string.Join(", ", Explanation.Explainable.Where(w => w is Lmbench).Select(w => w.Name))}).", DefaultValueFactory = _ => "in" };
        var profile = new Option<string>("--profile") { Description = "Hardware profile (see 'virtsim profiles').", DefaultValueFactory = _ => CompareCommand.DefaultProfile };
        var preset = new Option<string>("--preset") { Description = "Virtualization preset: native, type1, type2, paravirt, oslevel.", DefaultValueFactory = _ => "type1" };
        var cpu = new Option<string?>("--cpu") { Description = "CPU virtualization instead of the preset's." };
        var mmu = new Option<string?>("--mmu") { Description = "MMU virtualization instead of the preset's." };
        var io = new Option<string?>("--io") { Description = "I/O virtualization instead of the preset's." };
        var hosting = new Option<string?>("--hosting") { Description = "Hosting instead of the preset's." };
        var compare = new Option<bool>("--compare") { Description = "Explain it natively and under every architecture that runs it on the profile (the presets, trap-and-emulate, binary translation)." };
        var output = new Option<string?>("--out") { Description = "Results folder (default runs/explain-WORKLOAD-PROFILE, replaced on each run)." };
        var force = new Option<bool>("--force") { Description = "Replace the --out folder if it exists." };
        var verbose = new Option<bool>("--verbose") { Description = $"Print the whole phase-by-phase narration even when it is long (more than {ShortNarration} phases an architecture); it is always in explain.txt." };
        var json = new Option<bool>("--json") { Description = "Print the explanation as JSON (the phases, the cycles by category, the exits by reason, each architecture's scenario file), as the lecture page (virtsim serve) gets it; also written as explain.json." };
        var scenarioFile = new Argument<string?>("scenario") { Description = "A scenario file (YAML, docs/scenarios.md) naming the workload, profile and architecture; instead of the options (the lecture page's scenario files are such).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("explain", "Trace one operation through the machine, step by step with cycle counts: the anatomy of a trap.")
        {
            scenarioFile, workload, profile, preset, cpu, mmu, io, hosting, compare, output, force, verbose, json,
        };
        command.SetAction(parse =>
        {
            Experiments.Scenarios.WorkloadScenario scenario;
            if (parse.GetValue(scenarioFile) is { } file)
            {
                Option[] described = [workload, profile, preset, cpu, mmu, io, hosting];
                if (described.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray() is { Length: > 0 } given)
                {
                    return Fail($"the scenario file {file} names the workload and the machine; {string.Join(", ", given)} cannot be given with it.");
                }
                try
                {
                    scenario = Experiments.Scenarios.ScenarioFile.Load(file);
                }
                catch (Exception e) when (UserError.Of(e) is { } message)
                {
                    return Fail(message);
                }
            }
            else
            {
                scenario = new Experiments.Scenarios.WorkloadScenario
                {
                    Workload = parse.GetValue(workload)!, Profile = parse.GetValue(profile)!, Preset = parse.GetValue(preset)!, Cpu = parse.GetValue(cpu), Mmu = parse.GetValue(mmu),
                    Io = parse.GetValue(io), Hosting = parse.GetValue(hosting),
                };
            }
            if (Explanation.Problem(scenario) is { } problem)
            {
                return Fail(problem);
            }
            HardwareProfile hw = HardwareProfiles.Get(scenario.Profile);
            IWorkload benchmark = Explanation.Explainable.First(w => w.Name == scenario.Workload);
            IReadOnlyList<VirtualizationAxes> architectures = parse.GetValue(compare) ? Explanation.Architectures(hw, benchmark) : [scenario.ResolveAxes()];
            return Execute(hw, benchmark, architectures, parse.GetValue(output), parse.GetValue(force), parse.GetValue(verbose), parse.GetValue(json));
        });
        return command;
    }

    private static int Execute(HardwareProfile profile, IWorkload benchmark, IReadOnlyList<VirtualizationAxes> architectures, string? outDir, bool force, bool verbose, bool json)
    {
        var narration = new System.Text.StringBuilder();
        var explanations = new List<Explanation>();
        string written;
        try
        {
            written = ResultsFolder.Produce(outDir ?? Path.Combine("runs", $"explain-{benchmark.Name}-{profile.Name}"), replace: outDir is null || force, folder =>
            {
                foreach (VirtualizationAxes axes in architectures)
                {
                    Explanation e = Explanation.Of(profile, benchmark, axes);
                    explanations.Add(e);
                    string tag = axes.IsNative ? "native" : string.Join("-", AxisNames.Of(axes.Cpu), AxisNames.Of(axes.Mmu), AxisNames.Of(axes.Io), AxisNames.Of(axes.Hosting));
                    narration.Append(e.ToText()).Append('\n');
                    folder.WriteText($"trace-{tag}.json", w => w.Write(ExplanationOutput.ChromeTrace(e, profile)));
                    folder.WriteBinary($"timeline-{tag}.png", s => s.Write(ExplanationOutput.Timeline(e)));
                }
                folder.WriteText("summary.txt", w => w.Write(Explanation.Summary(explanations)));
                folder.WriteText("explain.json", w => w.Write(ExplanationView.Of(explanations).ToJson()));
                folder.WriteText("explain.txt", w => w.Write(narration.ToString()));
                if (explanations.Count > 1)
                {
                    folder.WriteBinary("compare.png", s => s.Write(ExplanationOutput.Comparison(explanations)));
                }
            });
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
        if (json)
        {
            Console.WriteLine(ExplanationView.Of(explanations).ToJson());
            return 0;
        }
        // The summary first; the phase-by-phase narration when asked, or when it is short enough to read on a screen.
        bool narrate = verbose || explanations.All(e => e.Phases.Count <= ShortNarration);
        Console.Write(explanations.Count > 1 || !narrate ? Explanation.Summary(explanations) + "\n" : "");
        Console.Write(narrate ? narration.ToString() : $"The phase-by-phase narration ({explanations.Sum(e => e.Phases.Count):N0} phases) is in explain.txt; --verbose prints it.\n");
        Console.WriteLine($"Traces (open in ui.perfetto.dev), timelines{(explanations.Count > 1 ? ", compare.png (every architecture on one cycle axis)" : "")}: {written}");
        return 0;
    }

    /// <summary>The most phases per architecture that are narrated without --verbose.</summary>
    private const int ShortNarration = 40;

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim explain: {message}");
        return 2;
    }
}
