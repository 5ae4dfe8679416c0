using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;
using Sim.Experiments.Sweeps;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim sweep FILE</c>: every point of a grid of scenarios at every seed, in parallel, with
/// progress and the time left; resumable (finished runs are kept in points/ and not run again);
/// one shard of the grid (<c>--shard K/N</c>) for a cluster's array jobs, whose folders
/// <c>virtsim merge</c> puts together; <c>--emit-slurm N</c> writes the Slurm job-array script
/// that does that. The tables come out the same to the byte whatever the threads or shards.
/// </summary>
internal static class SweepCommand
{
    public static Command Build()
    {
        var file = new Argument<string>("file") { Description = "The sweep file (YAML: base, grid, seeds; docs/sweeps.md)." };
        var output = new Option<string?>("--out") { Description = "The sweep's folder (default runs/sweep-NAME); a sweep started there before resumes." };
        var threads = new Option<int>("--threads") { Description = "Runs in parallel; results do not depend on it.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var shard = new Option<string?>("--shard") { Description = "Run only shard K of N (K/N): the points whose number is K - 1 modulo N. Merge the shards' folders with 'virtsim merge'." };
        var slurm = new Option<int?>("--emit-slurm") { Description = "Write a Slurm job-array script of N tasks, each one shard, into the sweep's folder, and run nothing." };
        var metric = new Option<string?>("--metric") { Description = "The figure of merit sweep.png draws, instead of the file's plot: (default: the workload's first), such as response_p99 or simulated_seconds." };
        var command = new Command("sweep", "Run a grid of scenarios over seeds, in parallel, resumable, shardable; tables of every run and of means with 95% intervals.")
        {
            file, output, threads, shard, slurm, metric,
        };
        command.SetAction(parse =>
        {
            Sweep sweep;
            try
            {
                sweep = Sweep.Load(parse.GetValue(file)!).WithPlot(parse.GetValue(metric), "--metric");
            }
            catch (ScenarioException e)
            {
                return Fail(e.Message);
            }
            string folder = parse.GetValue(output) ?? Path.Combine("runs", "sweep-" + sweep.Name);
            if (parse.GetValue(slurm) is { } tasks)
            {
                return EmitSlurm(sweep, parse.GetValue(file)!, folder, tasks);
            }
            Shard part = Shard.Whole;
            if (parse.GetValue(shard) is { } text)
            {
                part = Shard.Parse(text) ?? Shard.Whole;
                if (part == Shard.Whole && text != "1/1")
                {
                    return Fail($"--shard takes K/N with 1 <= K <= N, such as 3/8, not '{text}'.");
                }
            }
            return Execute(sweep, folder, part, parse.GetValue(threads));
        });
        return command;
    }

    private static int Execute(Sweep sweep, string folder, Shard shard, int threads)
    {
        if (threads < 1)
        {
            return Fail($"--threads must be at least 1 (got {threads}).");
        }
        var progress = new Progress("");
        int ran;
        try
        {
            ran = SweepRun.Run(sweep, folder, shard, threads, (done, total, result) =>
                progress.Report(done, total, string.Create(CultureInfo.InvariantCulture, $"{result.Point} seed {result.Seed}")));
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Fail(message);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ran} run(s) done in {progress.Elapsed.TotalSeconds:0.0} s ({sweep.Points.Count} points x {sweep.Seeds} seed(s){(shard == Shard.Whole ? "" : $", shard {shard}")})."));
        if (shard != Shard.Whole)
        {
            Console.WriteLine($"Shard written to {Path.GetFullPath(folder)}; when every shard is done: virtsim merge FILE --out DIR SHARD_FOLDERS...");
            return 0;
        }
        return Assemble(sweep, folder);
    }

    /// <summary>Writes the sweep's tables from its job files, or says which runs are missing.</summary>
    internal static int Assemble(Sweep sweep, string folder)
    {
        if (WriteTables(sweep, folder) is { } problem)
        {
            return Fail(problem);
        }
        Console.WriteLine($"Tables: {Path.GetFullPath(folder)} (points.csv, summary.csv, report.md{(SweepChart.NumericAxis(sweep) is null ? "" : ", sweep.png")})");
        return 0;
    }

    /// <summary>Writes the sweep's tables (and its curve, where an axis is numeric) from its job files; why it could not, or null.</summary>
    internal static string? WriteTables(Sweep sweep, string folder)
    {
        IReadOnlyList<JobResult> results;
        IReadOnlyList<string> missing;
        try
        {
            results = SweepFolder.Open(sweep, folder).Collect(out missing);
        }
        catch (ScenarioException e)
        {
            return e.Message;
        }
        if (missing.Count > 0)
        {
            return $"{missing.Count} run(s) have no result yet in {Path.Combine(folder, SweepFolder.PointsFolder)} (such as {missing[0]}); run the missing shards, or the sweep without --shard.";
        }
        WriteWhole(folder, "points.csv", w => SweepReport.WritePoints(w, sweep, results));
        WriteWhole(folder, "summary.csv", w => SweepReport.WriteSummary(w, sweep, results));
        WriteWhole(folder, "report.md", w => w.Write(SweepReport.ToMarkdown(sweep, results) +
            (SweepChart.NumericAxis(sweep) is null ? "" : $"\n![{sweep.PlotMetric} against the grid's numeric axis](sweep.png)\n")));
        if (SweepChart.NumericAxis(sweep) is not null)
        {
            AtomicFile.Write(Path.Combine(folder, "sweep.png"), SweepChart.Png(sweep, results));
        }
        return null;
    }

    private static void WriteWhole(string folder, string name, Action<TextWriter> write)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        write(text);
        AtomicFile.Write(Path.Combine(folder, name), text.ToString());
    }

    /// <summary>A Slurm job array of <paramref name="tasks"/> tasks, task K running shard K/N into the one shared folder; then the sweep without --shard (or merge) writes the tables.</summary>
    private static int EmitSlurm(Sweep sweep, string file, string folder, int tasks)
    {
        if (tasks is < 1 or > 10_000)
        {
            return Fail("--emit-slurm takes the number of array tasks, 1 to 10000.");
        }
        try
        {
            SweepFolder.Open(sweep, folder); // a folder of another sweep is refused now, not by every array task
        }
        catch (ScenarioException e)
        {
            return Fail(e.Message);
        }
        string sweepFile = Path.GetFullPath(file), outDir = Path.GetFullPath(folder);
        SlurmScript.Write(outDir, "sweep.sbatch", $"the sweep {sweepFile} into {outDir}", tasks, $"sweep {sweepFile} --out {outDir}", $"sweep {sweepFile} --out {outDir}");
        return 0;
    }

    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim sweep: {message}");
        return 2;
    }
}
