using System.CommandLine;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;
using Sim.Experiments.Validation;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim validate</c>: runs every reference experiment of the validation suite in parallel,
/// prints simulated against published with the error and whether it is within its tolerance
/// (calibration and validation targets apart), and writes the table as CSV and Markdown with a
/// log-log chart to results/validation/. A miss is reported, not hidden: the exit code is non-zero
/// for a miss only with --strict.
/// </summary>
internal static class ValidateCommand
{
    public const string DefaultOut = "results/validation";

    public static Command Build()
    {
        var suite = new Option<string?>("--suite") { Description = "The folder of reference experiments (default: the suite shipped with the program, validation/ in the repository)." };
        var output = new Option<string?>("--out") { Description = $"Results folder (default {DefaultOut} for the whole shipped suite, runs/validation with --only or --suite; replaced on each run)." };
        var force = new Option<bool>("--force") { Description = "Replace the --out folder if it exists." };
        var strict = new Option<bool>("--strict") { Description = "Exit with code 1 if any experiment misses its tolerance." };
        var threads = new Option<int>("--threads") { Description = "Experiments run in parallel on this many threads; results do not depend on it.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var only = new Option<string?>("--only") { Description = "Run only the experiments whose id contains this text." };
        var command = new Command("validate", "Run the validation suite: every published result beside the simulated one, within its tolerance or not.")
        {
            suite, output, force, strict, threads, only,
        };
        command.SetAction(parse =>
        {
            // Only the whole shipped suite replaces the committed reference table; a part of it, or another suite, goes beside the runs.
            bool whole = parse.GetValue(suite) is null && parse.GetValue(only) is null;
            string? outDir = parse.GetValue(output) ?? (whole ? null : Path.Combine("runs", "validation"));
            return Execute(parse.GetValue(suite) ?? Path.Combine(AppContext.BaseDirectory, "validation"), outDir, parse.GetValue(force) || (parse.GetValue(output) is null && !whole),
                parse.GetValue(strict), parse.GetValue(threads), parse.GetValue(only));
        });
        return command;
    }

    private static int Execute(string suiteFolder, string? outDir, bool force, bool strict, int threads, string? only)
    {
        if (RunCommand.ThreadsProblem(threads) is { } problem)
        {
            return Fail(problem);
        }
        IReadOnlyList<ReferenceExperiment> experiments;
        try
        {
            experiments = [.. ValidationSuite.Load(suiteFolder).Where(e => only is null || e.Id.Contains(only, StringComparison.Ordinal))];
        }
        catch (ScenarioException e)
        {
            return Fail(e.Message);
        }
        if (experiments.Count == 0)
        {
            return Fail($"no experiment's id contains '{only}'.");
        }
        IReadOnlyList<ValidationResult> results;
        string written;
        try
        {
            (results, written) = Write(experiments, outDir ?? DefaultOut, replace: outDir is null || force, threads);
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
        Console.Write(ValidationReport.ToText(results));
        Console.WriteLine($"Results: {written}");
        return strict && results.Any(r => !r.Within) ? 1 : 0;
    }

    /// <summary>
    /// Runs <paramref name="experiments"/> and writes the validation results folder at
    /// <paramref name="target"/> (table as CSV and Markdown, the chart), with progress on standard
    /// error. Each finished experiment's value is kept at once in a hidden folder beside the
    /// target (<c>.NAME.done/</c>), keyed by what decides it (its conditions, measure, and the
    /// program's version and commit), so that a run interrupted and started again simulates only
    /// what it had not finished; the folder goes when the results are in place.
    /// </summary>
    public static (IReadOnlyList<ValidationResult> Results, string Folder) Write(IReadOnlyList<ReferenceExperiment> experiments, string target, bool replace, int threads)
    {
        IReadOnlyList<ValidationResult> results = [];
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        string kept = Path.Combine(Path.GetDirectoryName(full) ?? ".", "." + Path.GetFileName(full) + ".done");
        (string version, string commit) = VersionCommand.ProgramVersion();
        string program = $"{version} {commit}";
        string written = ResultsFolder.Produce(target, replace, folder =>
        {
            Directory.CreateDirectory(kept);
            string KeptFile(ReferenceExperiment e) => Path.Combine(kept, e.Id + ".json");
            double? Known(ReferenceExperiment e)
            {
                try
                {
                    using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(KeptFile(e)));
                    return doc.RootElement.GetProperty("key").GetString() == ValidationRun.Key(e, program) ? doc.RootElement.GetProperty("simulated").GetDouble() : null;
                }
                catch (Exception x) when (x is IOException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    return null; // none kept, or not whole, or another program's: simulate it
                }
            }
            var progress = new Progress("validate ");
            int done = 0, reused = 0;
            results = ValidationRun.RunAll(experiments, threads, (r, simulated) =>
            {
                if (simulated)
                {
                    AtomicFile.Write(KeptFile(r.Experiment), JsonText.Of(new Dictionary<string, object> { ["key"] = ValidationRun.Key(r.Experiment, program), ["simulated"] = r.Simulated }));
                }
                else
                {
                    Interlocked.Increment(ref reused);
                }
                progress.Report(Interlocked.Increment(ref done), experiments.Count, $"{r.Experiment.Id}: {(r.Within ? "within" : "outside")} tolerance{(simulated ? "" : " (kept from an interrupted run)")}");
            }, Known);
            if (reused > 0)
            {
                Console.Error.WriteLine($"validate: {reused} of {experiments.Count} experiments kept from an interrupted run of the same program; the rest simulated.");
            }
            folder.WriteText("validation.csv", w => ValidationReport.WriteCsv(w, results));
            folder.WriteText("validation.md", w => w.Write(ValidationReport.ToMarkdown(results)));
            folder.WriteBinary("validation.png", s => s.Write(ValidationChart.Png(results)));
        });
        Directory.Delete(kept, recursive: true);
        return (results, written);
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim validate: {message}");
        return 2;
    }
}
