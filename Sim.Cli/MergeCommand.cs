using System.CommandLine;
using Sim.Experiments.Scenarios;
using Sim.Experiments.Sweeps;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim merge FILE --out DIR SHARD...</c>: the runs of a sweep's shards, run in separate
/// folders, put together in one and its tables written. Every shard is checked first (bound to
/// this sweep file, its run files whole) and together they must hold every run: a merge that is
/// refused writes nothing.
/// </summary>
internal static class MergeCommand
{
    public static Command Build()
    {
        var file = new Argument<string>("file") { Description = "The sweep file the shards ran." };
        var shards = new Argument<string[]>("shards") { Description = "The shards' folders.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "The merged sweep's folder.", Required = true };
        var command = new Command("merge", "Merge the folders of a sweep's shards into one and write its tables (the same bytes as the sweep run whole).")
        {
            file, shards, output,
        };
        command.SetAction(parse =>
        {
            try
            {
                Sweep sweep = Sweep.Load(parse.GetValue(file)!);
                string outDir = parse.GetValue(output)!;
                SweepFolder target = SweepFolder.Open(sweep, outDir);
                var found = new SortedDictionary<string, string>(StringComparer.Ordinal); // run file name -> where it is
                foreach (string job in target.JobFiles())
                {
                    found[Path.GetFileName(job)] = job;
                }
                foreach (string shard in parse.GetValue(shards)!)
                {
                    if (!Directory.Exists(Path.Combine(shard, SweepFolder.PointsFolder)))
                    {
                        return SweepCommand.Fail($"{shard} holds no sweep runs (no {SweepFolder.PointsFolder}/ folder).");
                    }
                    foreach (string job in SweepFolder.Open(sweep, shard).JobFiles())
                    {
                        found.TryAdd(Path.GetFileName(job), job);
                    }
                }
                string[] missing = [.. sweep.Jobs().Select(j => SweepFolder.JobFile(j.Point, j.SeedIndex)).Where(name => !found.ContainsKey(name))];
                if (missing.Length > 0)
                {
                    return SweepCommand.Fail($"{missing.Length} run(s) have no result in the shards given (such as {missing[0]}); run the missing shards and merge again. Nothing was written.");
                }
                target.Bind();
                foreach ((string name, string from) in found)
                {
                    string to = Path.Combine(target.Path, SweepFolder.PointsFolder, name);
                    if (Path.GetFullPath(from) != to)
                    {
                        Sim.Experiments.Output.AtomicFile.Write(to, File.ReadAllBytes(from));
                    }
                }
                return SweepCommand.Assemble(sweep, outDir);
            }
            catch (ScenarioException e)
            {
                return SweepCommand.Fail(e.Message);
            }
        });
        return command;
    }
}
