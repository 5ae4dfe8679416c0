using System.CommandLine;
using Sim.Experiments.Density;
using Sim.Experiments.Scenarios;
using Sim.Experiments.Sweeps;
using Sim.Experiments.Validation;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim reproduce</c>: regenerates the reference results the docs cite, in results/: a
/// results folder per committed scenario of scenarios/, per density study of studies/ and per
/// sweep of sweeps/ (named after its file), the validation suite's table and chart, and, from a checkout of the
/// repository, every notebook of notebooks/ executed with its outputs (results/notebooks/, so
/// that they show their charts where they are hosted). Every file but each folder's manifest
/// (which records the wall clock) comes out byte for byte the same on a rerun.
/// </summary>
internal static class ReproduceCommand
{
    public static Command Build()
    {
        var results = new Option<string>("--results") { Description = "Where to write the results (default results/, replacing what is there).", DefaultValueFactory = _ => "results" };
        var only = new Option<string?>("--only") { Description = "Regenerate only this one: a scenario's, density study's or sweep's name (its file name without .yaml), 'validation' or 'notebooks'." };
        var threads = new Option<int>("--threads") { Description = "Threads for the validation suite's experiments; results do not depend on it.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("reproduce", "Regenerate results/ (the reference results the docs cite) from the committed scenarios, density studies, sweeps and the validation suite.")
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
        string[] sweeps = [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "sweeps"), "*.yaml").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)];
        string[] names = [.. files.Concat(studies).Concat(sweeps).Select(Path.GetFileNameWithoutExtension).OfType<string>(), "validation", "notebooks"];
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
            foreach (string file in sweeps.Where(f => only is null || Path.GetFileNameWithoutExtension(f) == only))
            {
                string name = Path.GetFileNameWithoutExtension(file);
                string folder = Path.Combine(root, name);
                if (WriteSweep(Sweep.Load(file), folder, threads) is { } failure)
                {
                    return Fail(failure);
                }
                Done(name, Path.GetFullPath(folder));
            }
            if (only is null or "validation")
            {
                IReadOnlyList<ReferenceExperiment> suite = ValidationSuite.Load(Path.Combine(AppContext.BaseDirectory, "validation"));
                (_, string folder) = ValidateCommand.Write(suite, Path.Combine(root, "validation"), replace: true, threads);
                Done("validation", folder);
            }
            if (only is null or "notebooks")
            {
                if (Checkout() is not { } checkout)
                {
                    Console.WriteLine("notebooks: skipped (not run from a checkout of the repository, whose notebooks/ they need)");
                }
                else if (ExecuteNotebooks(checkout, Path.Combine(root, "notebooks")) is { } failure)
                {
                    return Fail(failure);
                }
                else
                {
                    Done("notebooks", Path.GetFullPath(Path.Combine(root, "notebooks")));
                }
            }
            return 0;
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
    }

    /// <summary>
    /// Runs <paramref name="sweep"/> whole into a fresh folder beside <paramref name="folder"/> and
    /// puts it in that one's place once its tables are written, so that a sweep stopped half-way
    /// leaves the old results whole; the reason it could not, or null.
    /// </summary>
    private static string? WriteSweep(Sweep sweep, string folder, int threads)
    {
        string fresh = folder + ".new";
        if (Directory.Exists(fresh))
        {
            Directory.Delete(fresh, recursive: true);
        }
        var progress = new Progress($"  {sweep.Name} ");
        SweepRun.Run(sweep, fresh, Shard.Whole, threads, (done, total, result) => progress.Report(done, total, $"{result.Point} seed {result.Seed}"));
        if (SweepCommand.WriteTables(sweep, fresh) is { } problem)
        {
            return $"{sweep.Name}: {problem}";
        }
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        Directory.Move(fresh, folder);
        return null;
    }

    /// <summary>The repository checkout the working folder is in (the folder with Simulation.sln and notebooks/), or null.</summary>
    private static string? Checkout()
    {
        for (DirectoryInfo? d = new(Environment.CurrentDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Simulation.sln")) && Directory.Exists(Path.Combine(d.FullName, "notebooks")))
            {
                return d.FullName;
            }
        }
        return null;
    }

    /// <summary>
    /// Runs each notebook headless with the repository's local tool dotnet-repl (as the tests do)
    /// and writes it, executed and normalized (<see cref="Sim.Experiments.Output.NotebookOutput"/>),
    /// into <paramref name="target"/>; the reason it could not, or null.
    /// </summary>
    private static string? ExecuteNotebooks(string checkout, string target)
    {
        if (Process(checkout, "tool", "restore") is { } restore)
        {
            return $"notebooks: 'dotnet tool restore' failed: {restore}";
        }
        string scratch = Path.Combine(Path.GetTempPath(), "virtsim-notebooks-" + Environment.ProcessId);
        Directory.CreateDirectory(scratch);
        try
        {
            string? failure = null;
            Sim.Experiments.Output.ResultsFolder.Produce(target, replace: true, folder =>
            {
                foreach (string notebook in Directory.GetFiles(Path.Combine(checkout, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
                {
                    string name = Path.GetFileName(notebook);
                    string executed = Path.Combine(scratch, name);
                    if (Process(Path.Combine(checkout, "notebooks"), "repl", "--run", name, "--exit-after-run", "--output-path", executed) is { } error && !File.Exists(executed))
                    {
                        failure = $"notebooks: {name} did not run: {error}";
                        throw new OperationCanceledException(failure);
                    }
                    string text = File.ReadAllText(executed);
                    if (Sim.Experiments.Output.NotebookOutput.Errors(text) is { Count: > 0 } errors)
                    {
                        failure = $"notebooks: {name} has a failing cell: {errors[0]}";
                        throw new OperationCanceledException(failure);
                    }
                    folder.WriteText(name, w => w.Write(Sim.Experiments.Output.NotebookOutput.Normalize(text)));
                    Console.Error.WriteLine($"  notebook {name} executed");
                }
            });
            return failure;
        }
        catch (OperationCanceledException e)
        {
            return e.Message;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/> in <paramref name="folder"/>; what it said if it failed, or null.</summary>
    private static string? Process(string folder, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return process.ExitCode == 0 ? null : (stderr.Result + stdout.Result).Trim();
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim reproduce: {message}");
        return 2;
    }
}
