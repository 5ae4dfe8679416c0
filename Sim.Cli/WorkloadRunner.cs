using Sim.Experiments.Runs;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;
using Sim.Models.Hardware;
using Sim.Workloads;

namespace Sim.Cli;

/// <summary>The <c>virtsim run --workload</c> and <c>virtsim run FILE</c> paths: one workload on one machine, natively or under a preset.</summary>
internal static class WorkloadRunner
{
    /// <summary>Runs the scenario in <paramref name="path"/> (a YAML file; docs/scenarios.md).</summary>
    public static int ExecuteFile(string path, bool json, string? outDir, bool force, int threads)
    {
        WorkloadScenario scenario;
        try
        {
            scenario = ScenarioFile.Load(path);
        }
        catch (ScenarioException e)
        {
            return Fail(e.Message);
        }
        return Execute(scenario, json, outDir, force, threads);
    }

    public static int Execute(WorkloadScenario scenario, bool json, string? outDir, bool force, int threads)
    {
        if (scenario.FirstProblem() is { } problem)
        {
            return Fail(problem + ".");
        }
        WorkloadRunResult[] runs;
        string written;
        try
        {
            (runs, written) = Write(scenario, outDir ?? Path.Combine("runs", scenario.DefaultFolderName()), replace: outDir is null || force, threads);
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
        string description = scenario.ResolveWorkload().Workload.Description;
        Console.Write(json ? WorkloadRunReport.ToJson(runs) : WorkloadRunReport.ToText(runs, description) + $"\nResults: {written}\n");
        return 0;
    }

    /// <summary>
    /// Runs a valid scenario's repetitions in parallel and writes its results folder at
    /// <paramref name="target"/>: every statistic, the summary, the report and its chart, the
    /// resolved scenario and the manifest. Returns the runs and the folder's path. The repetitions
    /// run on <paramref name="threads"/> threads (0: one per processor); results do not depend on it.
    /// </summary>
    public static (WorkloadRunResult[] Runs, string Folder) Write(WorkloadScenario scenario, string target, bool replace, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        (IWorkload workload, long n) = scenario.ResolveWorkload();
        HardwareProfile profile = scenario.ResolveProfile();
        Models.Virtualization.VirtualizationAxes axes = scenario.ResolveAxes();
        var runs = new WorkloadRunResult[scenario.Repetitions];
        string written = ResultsFolder.Produce(target, replace, folder =>
            {
                DateTimeOffset started = DateTimeOffset.UtcNow; // for the manifest only: results never see the wall clock
                var progress = new Progress("");
                int finished = 0;
                Parallel.For(0, runs.Length, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount }, i =>
                {
                    // One run alone cannot know its end (it ends when its workloads do): it says how far it has simulated instead.
                    runs[i] = scenario.RunOnce(scenario.Seed + (ulong)i, runs.Length == 1 ? progress.Running : null);
                    if (runs.Length > 1)
                    {
                        progress.Report(Interlocked.Increment(ref finished), runs.Length, $"seed {scenario.Seed + (ulong)i}");
                    }
                });
                progress.Finish();
                string summary = WorkloadRunReport.ToJson(runs);
                if (scenario.Writes("stats"))
                {
                    folder.WriteText("stats.csv", w => StatsCsv.Write(w, [.. runs.Select(r => r.Run)]));
                    if (runs.Length > 1)
                    {
                        folder.WriteText("summary.csv", w => SummaryCsv.Write(w, [.. runs.Select(r => r.Run)]));
                    }
                }
                folder.WriteText("summary.json", w => w.Write(summary));
                bool plots = scenario.Writes("plots");
                if (scenario.Writes("report"))
                {
                    folder.WriteText("report.md", w => w.Write(WorkloadRunReport.ToMarkdown(runs, workload.Description, plots)));
                }
                if (plots)
                {
                    folder.WriteBinary("cycles.png", s => s.Write(CycleChart.Png($"{scenario.WorkloadName} on {scenario.Profile}: cycles by category", runs[0].CyclesByCategory)));
                }
                if (plots && LatencyChart.HasLatencies(runs[0]))
                {
                    folder.WriteBinary("latency.png", s => s.Write(LatencyChart.Png($"{scenario.WorkloadName} on {scenario.Profile}: {LatencyChart.Subject(runs[0])}", runs[0])));
                }
                string resolved = JsonText.Of(scenario.Resolved());
                folder.WriteText("scenario.json", w => w.Write(resolved));
                (string version, string commit) = VersionCommand.ProgramVersion();
                folder.WriteText("manifest.json", w => w.Write(Manifest.Json(version, commit, scenario.Seed, resolved, started, DateTimeOffset.UtcNow)));
            });
        return (runs, written);
    }

    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim run: {message}");
        return 2;
    }
}
