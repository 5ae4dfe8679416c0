using System.CommandLine;
using Sim.Experiments.Scenarios;
using Sim.Experiments.Sweeps;

namespace Sim.Cli;

/// <summary><c>virtsim merge FILE --out DIR SHARD...</c>: the runs of a sweep's shards, run in separate folders, put together in one and its tables written.</summary>
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
            Sweep sweep;
            try
            {
                sweep = Sweep.Load(parse.GetValue(file)!);
            }
            catch (ScenarioException e)
            {
                return SweepCommand.Fail(e.Message);
            }
            string target = Path.Combine(parse.GetValue(output)!, SweepRun.PointsFolder);
            Directory.CreateDirectory(target);
            foreach (string shard in parse.GetValue(shards)!)
            {
                string points = Path.Combine(shard, SweepRun.PointsFolder);
                if (!Directory.Exists(points))
                {
                    return SweepCommand.Fail($"{shard} holds no sweep runs (no {SweepRun.PointsFolder}/ folder).");
                }
                foreach (string job in Directory.GetFiles(points, "*.json").Order(StringComparer.Ordinal))
                {
                    string to = Path.Combine(target, Path.GetFileName(job));
                    if (Path.GetFullPath(job) != Path.GetFullPath(to))
                    {
                        File.Copy(job, to, overwrite: true);
                    }
                }
            }
            return SweepCommand.Assemble(sweep, parse.GetValue(output)!);
        });
        return command;
    }
}
