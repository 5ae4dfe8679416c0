using System.CommandLine;
using Sim.Experiments.Comparisons;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;
using Sim.Models.Hardware;
using Sim.Workloads;

namespace Sim.Cli;

/// <summary><c>virtsim compare --workload NAME</c>: the workload under native and every preset on one seed; a table, CSVs, a chart, a report.</summary>
internal static class CompareCommand
{
    /// <summary>The default profile: the first with EPT and VPID, so that type1 runs with nested paging.</summary>
    public const string DefaultProfile = "nehalem-x5570";

    public static Command Build()
    {
        var workload = new Option<string>("--workload") { Description = "The workload to compare (see 'virtsim workloads').", Required = true };
        var profile = new Option<string>("--profile") { Description = "Hardware profile (see 'virtsim profiles').", DefaultValueFactory = _ => DefaultProfile };
        var size = new Option<long?>("--size") { Description = "Workload size (each workload says what it counts); its default if absent." };
        var seed = new Option<ulong>("--seed") { Description = "The seed every preset runs with.", DefaultValueFactory = _ => 42 };
        var disk = new Option<string>("--disk") { Description = "The disk's medium: ssd (Intel X25-E), hdd (7,200 rpm) or nvme (Intel DC P4500).", DefaultValueFactory = _ => "ssd" };
        var diskInterface = new Option<string>("--disk-interface") { Description = "How the disk is attached, ahci or ata-pio.", DefaultValueFactory = _ => "ahci" };
        var output = new Option<string?>("--out") { Description = "Results folder (default runs/compare-WORKLOAD-PROFILE, replaced on each run)." };
        var force = new Option<bool>("--force") { Description = "Replace the --out folder if it exists." };
        var json = new Option<bool>("--json") { Description = "Print the comparison as one JSON object." };
        var metric = new Option<string?>("--metric") { Description = "The figure of merit figure.png draws for every preset (default: the workload's first; response_p99 for a service under an open-loop client)." };
        var command = new Command("compare", "Run a workload natively and under every preset on the same seed: slowdown, cycles by category, VM exits by reason.")
        {
            workload, profile, size, seed, disk, diskInterface, output, force, json, metric,
        };
        command.SetAction(parse =>
        {
            var scenario = new WorkloadScenario
            {
                Workload = parse.GetValue(workload)!, Profile = parse.GetValue(profile)!, Size = parse.GetValue(size), Seed = parse.GetValue(seed),
                Disk = parse.GetValue(disk)!, DiskInterface = parse.GetValue(diskInterface)!,
            };
            scenario = ScenarioFile.WithProfileHost(scenario, key => (key == "disk" && parse.GetResult(disk) is { Implicit: false }) || (key == "disk_interface" && parse.GetResult(diskInterface) is { Implicit: false }), "--profile");
            return Execute(scenario, parse.GetValue(output), parse.GetValue(force), parse.GetValue(json), parse.GetValue(metric));
        });
        return command;
    }

    private static int Execute(WorkloadScenario scenario, string? outDir, bool force, bool json, string? metric)
    {
        if (scenario.FirstProblem() is { } problem)
        {
            return Fail(problem + ".");
        }
        (IWorkload workload, long n) = scenario.ResolveWorkload();
        string drawn = metric ?? (workload.FigureNames.Contains("response_p99") ? "response_p99" : workload.FigureNames[0]);
        if (!workload.FigureNames.Contains(drawn))
        {
            return Fail($"--metric: {workload.Name} reports no figure of merit '{drawn}'; it reports {string.Join(", ", workload.FigureNames)}.");
        }
        HardwareProfile profile = scenario.ResolveProfile();
        IReadOnlyList<PresetOutcome> outcomes = [];
        string summary = "";
        string written;
        try
        {
            written = ResultsFolder.Produce(outDir ?? Path.Combine("runs", $"compare-{scenario.WorkloadName}-{scenario.ProfileName}"), replace: outDir is null || force, folder =>
            {
                DateTimeOffset started = DateTimeOffset.UtcNow; // for the manifest only: results never see the wall clock
                var progress = new Progress("compare ");
                outcomes = PresetComparison.Run(profile, workload, n, scenario.Seed, scenario.ResolveMachine(), (done, total, preset) => progress.Report(done, total, preset));
                summary = ComparisonReport.ToJson(outcomes, scenario.Workload, profile.Name, n, scenario.Seed);
                folder.WriteText("presets.csv", w => ComparisonReport.WritePresets(w, outcomes));
                folder.WriteText("exits.csv", w => ComparisonReport.WriteExits(w, outcomes));
                folder.WriteText("summary.json", w => w.Write(summary));
                folder.WriteText("report.md", w => w.Write(ComparisonReport.ToMarkdown(outcomes, scenario.Workload, workload.Description, profile.Name, n, scenario.Seed)));
                folder.WriteBinary("cycles.png", s => s.Write(PresetCycleChart.Png($"{scenario.WorkloadName} on {profile.Name}: cycles by category", outcomes)));
                folder.WriteBinary("exits.png", s => s.Write(ExitChart.Png($"{scenario.WorkloadName} on {profile.Name}: VM exits by reason", outcomes)));
                folder.WriteBinary("figure.png", s => s.Write(FigureChart.Png($"{scenario.WorkloadName} on {profile.Name}: {drawn}", outcomes, drawn)));
                string resolved = JsonText.Of(scenario.Resolved());
                folder.WriteText("scenario.json", w => w.Write(resolved));
                (string version, string commit) = VersionCommand.ProgramVersion();
                folder.WriteText("manifest.json", w => w.Write(Manifest.Json(version, commit, scenario.Seed, resolved, started, DateTimeOffset.UtcNow)));
            });
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
        Console.Write(json ? summary : ComparisonReport.ToText(outcomes, scenario.Workload, profile.Name, n, scenario.Seed) + $"\nResults: {written}\n");
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim compare: {message}");
        return 2;
    }
}
