using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Sim.Experiments.Density;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim density [FILE]</c>: how many guests of a workload fit on a host within a service
/// level, under each preset of the study (by default the built-in study of the source text's
/// claim 7); a line per simulation as it ends, then the densities, and a results folder with the
/// probes, the densities, a report and the picture.
/// </summary>
internal static class DensityCommand
{
    public static Command Build()
    {
        var file = new Argument<string?>("file") { Description = "A density study (YAML: base, presets, slo, max_guests; docs/density.md); the built-in study of claim 7 if none.", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<string?>("--out") { Description = "The results folder (default runs/density-NAME, replaced on each run)." };
        var force = new Option<bool>("--force") { Description = "Replace the --out folder if it exists." };
        var presets = new Option<string?>("--presets") { Description = "The presets to compare, comma-separated, instead of the study's (such as type1,oslevel)." };
        var slo = new Option<string?>("--slo") { Description = "The service level instead of the study's, such as \"response_p99 <= 1000\"." };
        var maxGuests = new Option<int?>("--max-guests") { Description = "Where the search stops, instead of the study's (1 to 254)." };
        var metric = new Option<string?>("--metric") { Description = "The figure of merit density.png draws, instead of the study's plot: (default: the worst guest's service-level metric; another is drawn as the guests' mean), such as requests." };
        var overcommit = new Option<string?>("--overcommit") { Description = "How the host overcommits VMs' memory, instead of the study's: none, balloon, ksm or balloon+ksm (docs/density.md, \"Overcommitting memory\")." };
        var overcommitRatio = new Option<double?>("--overcommit-ratio") { Description = "The VMs' memory the host admits over what it has, at least 1, instead of the study's (default 1.5 with a policy)." };
        var command = new Command("density", "Search, per preset, for the most guests that keep a service level on one host; densities, probes, report and plot.")
        {
            file, output, force, presets, slo, maxGuests, metric, overcommit, overcommitRatio,
        };
        command.SetAction(parse =>
        {
            DensityStudy study;
            try
            {
                study = parse.GetValue(file) is { } path ? DensityStudy.Load(path) : DensityStudy.Default;
                study = study.With(parse.GetValue(presets), parse.GetValue(slo), parse.GetValue(maxGuests), parse.GetValue(metric), parse.GetValue(overcommit), parse.GetValue(overcommitRatio));
            }
            catch (ScenarioException e)
            {
                return Fail(e.Message);
            }
            string? outDir = parse.GetValue(output);
            return Execute(study, outDir ?? Path.Combine("runs", "density-" + study.Name), replace: outDir is null || parse.GetValue(force));
        });
        return command;
    }

    private static int Execute(DensityStudy study, string target, bool replace)
    {
        IReadOnlyList<DensityResult> results;
        string written;
        try
        {
            (results, written) = Write(study, target, replace);
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
        Console.Write(DensityReport.Table(study, results));
        Console.WriteLine($"\nResults: {written} (density.csv, probes.csv, report.md, density.png)");
        return 0;
    }

    /// <summary>Runs <paramref name="study"/>, a line per probe on standard error as it ends, and writes its results folder; what <c>virtsim reproduce</c> calls too.</summary>
    internal static (IReadOnlyList<DensityResult> Results, string Folder) Write(DensityStudy study, string target, bool replace)
    {
        Console.Error.WriteLine($"density {study.Name}: {study.Base.Workload} on {study.Base.Profile}, presets {string.Join(", ", study.Presets)}, every guest keeping {study.Slo}; {DensityReport.MemoryPolicy(study)}");
        var wall = Stopwatch.StartNew();
        IReadOnlyList<DensityResult> results = [];
        string written = ResultsFolder.Produce(target, replace, folder =>
        {
            DateTimeOffset started = DateTimeOffset.UtcNow; // for the manifest only: results never see the wall clock
            results = DensitySearch.Run(study, p =>
            {
                string line = string.Create(CultureInfo.InvariantCulture, $"  {wall.Elapsed.TotalSeconds,6:0.0} s  {p.Preset,-8} {p.Guests,4} guests{(p.MemoryIgnored ? " (memory unbounded)" : "")}: ");
                line += p.Refused ?? string.Create(CultureInfo.InvariantCulture, $"worst {study.Slo.Metric} {p.Worst:G4} {p.Unit}, {(p.Met ? "within" : "misses")} the level");
                lock (Console.Error)
                {
                    Console.Error.WriteLine(line);
                }
            });
            folder.WriteText("probes.csv", w => DensityReport.WriteProbes(w, study, results));
            folder.WriteText("density.csv", w => DensityReport.WriteDensities(w, results));
            folder.WriteText("report.md", w => w.Write(DensityReport.ToMarkdown(study, results)));
            folder.WriteBinary("density.png", s => s.Write(DensityReport.Png(study, results)));
            string resolved = JsonText.Of(study.Resolved());
            folder.WriteText("study.json", w => w.Write(resolved));
            (string version, string commit) = VersionCommand.ProgramVersion();
            folder.WriteText("manifest.json", w => w.Write(Manifest.Json(version, commit, study.Base.Seed, resolved, started, DateTimeOffset.UtcNow)));
        });
        return (results, written);
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim density: {message}");
        return 2;
    }
}
