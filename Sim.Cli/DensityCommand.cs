using System.CommandLine;
using System.Globalization;
using Sim.Experiments.Density;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;
using Sim.Experiments.Sweeps;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim density [FILE]</c>: how many guests of a workload fit on a host within a service
/// level, under each preset of the study (by default the built-in study of the source text's
/// claim 7); a line per simulation as it ends, then the densities, and a results folder with the
/// probes, the densities, a report and the picture. <c>--shard K/N</c> runs only some presets'
/// searches, keeping their runs for the study run whole to write the results from;
/// <c>--emit-slurm N</c> writes the Slurm job array of such shards.
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
        var seeds = new Option<int?>("--seeds") { Description = "The seeds each probe runs, instead of the study's (default 5): the level is judged on the 95% interval over them." };
        var threads = new Option<int>("--threads") { Description = "Simulations at once; results do not depend on it.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var restart = new Option<bool>("--restart") { Description = "Discard the runs an interrupted search of this folder kept, and start afresh." };
        var shard = new Option<string?>("--shard") { Description = "Run only the searches of shard K of N (K/N): the presets whose number is K - 1 modulo N, their runs kept beside --out; the study run whole then writes the results from them." };
        var slurm = new Option<int?>("--emit-slurm") { Description = "Write a Slurm job-array script of N tasks (at most one a preset), each one shard, beside --out, and run nothing." };
        var command = new Command("density", "Search, per preset, for the most guests that keep a service level on one host; densities, probes, report and plot.")
        {
            file, output, force, presets, slo, maxGuests, metric, overcommit, overcommitRatio, seeds, threads, restart, shard, slurm,
        };
        command.SetAction(parse =>
        {
            DensityStudy study;
            try
            {
                study = parse.GetValue(file) is { } path ? DensityStudy.Load(path) : DensityStudy.Default;
                study = study.With(parse.GetValue(presets), parse.GetValue(slo), parse.GetValue(maxGuests), parse.GetValue(metric), parse.GetValue(overcommit), parse.GetValue(overcommitRatio), parse.GetValue(seeds));
            }
            catch (ScenarioException e)
            {
                return Fail(e.Message);
            }
            if (parse.GetValue(threads) < 1)
            {
                return Fail($"--threads must be at least 1 (got {parse.GetValue(threads)}).");
            }
            string? outDir = parse.GetValue(output);
            string target = outDir ?? Path.Combine("runs", "density-" + study.Name);
            if (parse.GetValue(slurm) is { } tasks)
            {
                return EmitSlurm(study, target, tasks);
            }
            if (parse.GetValue(shard) is { } text)
            {
                if (Shard.Parse(text) is not { } part)
                {
                    return Fail($"--shard takes K/N with 1 <= K <= N, such as 2/3, not '{text}'.");
                }
                return parse.GetValue(restart) ? Fail("--restart cannot be given to a shard: other shards may be keeping their runs in the same folder.")
                    : RunShard(study, target, part, parse.GetValue(threads));
            }
            return Execute(study, target, replace: outDir is null || parse.GetValue(force), parse.GetValue(threads), parse.GetValue(restart));
        });
        return command;
    }

    private static int Execute(DensityStudy study, string target, bool replace, int threads, bool restart)
    {
        IReadOnlyList<DensityResult> results;
        string written;
        try
        {
            (results, written) = Write(study, target, replace, threads, restart);
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
        Console.Write(DensityReport.Table(study, results));
        Console.WriteLine($"\nResults: {written} (density.csv, probes.csv, report.md, density.png{(study.Alongside.Count > 0 ? ", interference.csv, interference.png" : "")})");
        return 0;
    }

    /// <summary>
    /// Runs <paramref name="study"/>, a progress line per probe on standard error as it ends (with
    /// the elapsed time and an estimate of the time left), and writes its results folder; what
    /// <c>virtsim reproduce</c> calls too. Each finished run is kept at once beside the target
    /// (<see cref="ProbeStore"/>), so that a search interrupted and started again simulates only
    /// what it had not finished, to the same bytes; the store goes when the results are in place.
    /// </summary>
    internal static (IReadOnlyList<DensityResult> Results, string Folder) Write(DensityStudy study, string target, bool replace, int threads = 0, bool restart = false)
    {
        Console.Error.WriteLine($"density {study.Name}: {study.Base.Workload} on {study.Base.Profile}, presets {string.Join(", ", study.Presets)}, every guest keeping {study.Slo} on {study.Seeds} seed(s); {DensityReport.MemoryPolicy(study)}");
        IReadOnlyList<DensityResult> results = [];
        ProbeStore? store = null;
        (string version, string commit) = VersionCommand.ProgramVersion();
        string written = ResultsFolder.Produce(target, replace, folder =>
        {
            DateTimeOffset started = DateTimeOffset.UtcNow; // for the manifest only: results never see the wall clock
            store = ProbeStore.Open(study, target, $"{version} {commit}", restart);
            results = Search(study, store, threads);
            folder.WriteText("probes.csv", w => DensityReport.WriteProbes(w, study, results));
            folder.WriteText("density.csv", w => DensityReport.WriteDensities(w, results));
            if (study.Alongside.Count > 0)
            {
                folder.WriteText("interference.csv", w => DensityReport.WriteInterference(w, study, results));
                folder.WriteBinary("interference.png", s => s.Write(InterferenceChart.Png(study, results)));
            }
            folder.WriteText("report.md", w => w.Write(DensityReport.ToMarkdown(study, results)));
            folder.WriteBinary("density.png", s => s.Write(DensityReport.Png(study, results)));
            string resolved = JsonText.Of(study.Resolved());
            folder.WriteText("study.json", w => w.Write(resolved));
            folder.WriteText("manifest.json", w => w.Write(Manifest.Json(version, commit, study.Base.Seed, resolved, started, DateTimeOffset.UtcNow)));
        });
        store?.Remove();
        return (results, written);
    }

    /// <summary>
    /// The searches of <paramref name="study"/>, each probe reported on standard error as it ends
    /// with the progress (elapsed, time left), their runs taken from and kept in <paramref name="store"/>.
    /// </summary>
    private static IReadOnlyList<DensityResult> Search(DensityStudy study, ProbeStore store, int threads)
    {
        var progress = new Progress($"density {study.Name} ");
        var left = new Dictionary<string, int>(StringComparer.Ordinal);
        int probes = 0;
        IReadOnlyList<DensityResult> results = DensitySearch.Run(study, (p, probesLeft) =>
        {
            string beside = study.Alongside.Count == 0 ? "" : p.Alongside.Count > 0 ? $" beside the {study.FixedGuests} alongside" : " alone"; // a mixed host's probe, or one guest's run alone
            string what = string.Create(CultureInfo.InvariantCulture, $"{p.Preset} {p.Guests} guests{beside}{(p.MemoryIgnored ? " (memory unbounded)" : "")}: ");
            string missing = p.GroupsMissing.Any() ? $"; {string.Join(", ", p.GroupsMissing.Select(g => g.Name))} missed theirs" : "";
            what += p.Refused ?? string.Create(CultureInfo.InvariantCulture, $"worst {p.Slo.Metric} {p.Worst:G4} {p.Unit}, {(p.Met ? "within" : "misses")} the level ({p.SeedsMissed} of {p.Runs.Count} seeds missed){missing}");
            lock (left)
            {
                left[p.Preset] = Math.Max(0, probesLeft - 1);
                probes++;
                progress.Report(probes, probes + left.Values.Sum(), what);
            }
        }, store, threads);
        if (store.Reused > 0)
        {
            Console.Error.WriteLine($"density: {store.Reused} run(s) kept from an interrupted search of the same study, or by its shards; the rest simulated.");
        }
        return results;
    }

    /// <summary>
    /// Runs the searches of the presets of <paramref name="part"/> and keeps their runs beside
    /// <paramref name="target"/> for the study run whole to write the results from; writes no
    /// results folder. Shards run at once share the store (<see cref="ProbeStore.Open"/>, shared).
    /// </summary>
    private static int RunShard(DensityStudy study, string target, Shard part, int threads)
    {
        string[] mine = [.. study.Presets.Where((_, i) => part.Has(i))];
        if (mine.Length == 0)
        {
            Console.WriteLine($"Shard {part} of a study of {study.Presets.Count} preset(s) has none to search.");
            return 0;
        }
        (string version, string commit) = VersionCommand.ProgramVersion();
        try
        {
            ProbeStore store = ProbeStore.Open(study, target, $"{version} {commit}", restart: false, shared: true);
            Search(study with { Presets = mine }, store, threads); // the same runs, keyed by preset, as the whole study's
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
        Console.WriteLine($"Shard {part} done ({string.Join(", ", mine)}), its runs kept in {ProbeStore.FolderFor(target)}; when every shard is done, the study run whole with --out {target} writes the results from them.");
        return 0;
    }

    /// <summary>
    /// A Slurm job array of <paramref name="tasks"/> tasks, task K the shard K/N of the resolved
    /// study (written beside the runs, so that every task and the final run read the same study);
    /// then the study run whole writes the results.
    /// </summary>
    private static int EmitSlurm(DensityStudy study, string target, int tasks)
    {
        if (tasks < 1 || tasks > study.Presets.Count)
        {
            return Fail($"--emit-slurm takes the number of array tasks, 1 to the study's {study.Presets.Count} preset(s): each task searches whole presets.");
        }
        (string version, string commit) = VersionCommand.ProgramVersion();
        string folder;
        try
        {
            folder = ProbeStore.Open(study, target, $"{version} {commit}", restart: false, shared: true).Folder; // a store of another study is refused now, not by every task
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
        string studyFile = Path.Combine(folder, "resolved", study.Name + ".json"), outDir = Path.GetFullPath(target); // named as the study, so its report is too
        Directory.CreateDirectory(Path.GetDirectoryName(studyFile)!);
        AtomicFile.Write(studyFile, JsonText.Of(study.Resolved()));
        SlurmScript.Write(folder, "density.sbatch", $"the density study {study.Name} into {outDir}", tasks, $"density {studyFile} --out {outDir}", $"density {studyFile} --out {outDir} --force");
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim density: {message}");
        return 2;
    }
}
