using System.CommandLine;
using Sim.Experiments.Density;
using Sim.Experiments.Scenarios;
using Sim.Experiments.Validation;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim reproduce</c>: regenerates the reference results the docs cite, in results/: a
/// results folder per committed scenario of scenarios/ and per density study of studies/ (named
/// after its file), and the validation suite's table and chart. Every file but each folder's manifest (which records the
/// wall clock) comes out byte for byte the same on a rerun.
/// </summary>
internal static class ReproduceCommand
{
    public static Command Build()
    {
        var results = new Option<string>("--results") { Description = "Where to write the results (default results/, replacing what is there).", DefaultValueFactory = _ => "results" };
        var only = new Option<string?>("--only") { Description = "Regenerate only this one: a scenario's or density study's name (its file name without .yaml), or 'validation'." };
        var threads = new Option<int>("--threads") { Description = "Threads for the validation suite's experiments; results do not depend on it.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("reproduce", "Regenerate results/ (the reference results the docs cite) from the committed scenarios and the validation suite.")
        {
            results, only, threads,
        };
        command.SetAction(parse => Execute(parse.GetValue(results)!, parse.GetValue(only), parse.GetValue(threads)));
        return command;
    }

    private static int Execute(string root, string? only, int threads)
    {
        if (RunCommand.ThreadsProblem(threads) is { } problem)
        {
            return Fail(problem);
        }
        string scenarios = Path.Combine(AppContext.BaseDirectory, "scenarios");
        string[] files = [.. Directory.GetFiles(scenarios, "*.yaml").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)];
        string[] studies = [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "studies"), "*.yaml").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)];
        string[] names = [.. files.Concat(studies).Select(Path.GetFileNameWithoutExtension).OfType<string>(), "validation"];
        if (only is not null && Array.IndexOf(names, only) < 0)
        {
            return Fail($"there is nothing named '{only}' to reproduce; the names are: {string.Join(", ", names)}.");
        }
        // Progress over the folders, each with its own progress beneath: the validation suite is the longest.
        var progress = new Progress("reproduce ");
        int total = names.Count(n => only is null || n == only), done = 0;
        void Done(string name, string folder)
        {
            Console.WriteLine($"{name}: {folder}");
            progress.Report(++done, total, name);
        }
        try
        {
            foreach (string file in files.Where(f => only is null || Path.GetFileNameWithoutExtension(f) == only))
            {
                string name = Path.GetFileNameWithoutExtension(file);
                WorkloadScenario scenario = ScenarioFile.Load(file);
                (_, string folder) = WorkloadRunner.Write(scenario, Path.Combine(root, name), replace: true, threads);
                Done(name, folder);
            }
            foreach (string file in studies.Where(f => only is null || Path.GetFileNameWithoutExtension(f) == only))
            {
                string name = Path.GetFileNameWithoutExtension(file);
                (_, string folder) = DensityCommand.Write(DensityStudy.Load(file), Path.Combine(root, name), replace: true);
                Done(name, folder);
            }
            if (only is null or "validation")
            {
                IReadOnlyList<ReferenceExperiment> suite = ValidationSuite.Load(Path.Combine(AppContext.BaseDirectory, "validation"));
                (_, string folder) = ValidateCommand.Write(suite, Path.Combine(root, "validation"), replace: true, threads);
                Done("validation", folder);
            }
            return 0;
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim reproduce: {message}");
        return 2;
    }
}
