using System.CommandLine;
using System.Globalization;
using Sim.Experiments.Scenarios;

namespace Sim.Cli;

/// <summary><c>virtsim workload check FILE</c>: a workload file's service run natively, its per-request figures as simulated beside the file's (docs/planning.md).</summary>
internal static class WorkloadCommand
{
    public static Command Build()
    {
        var command = new Command("workload", "Work with a workload file of your own service (docs/planning.md).");
        var file = new Argument<string>("file") { Description = "The workload file (YAML; docs/planning.md, \"Your own service\")." };
        var profile = new Option<string>("--profile") { Description = "The hardware profile, or file:PATH for your own host.", DefaultValueFactory = _ => "nehalem-x5570" };
        var size = new Option<long>("--size") { Description = "Requests of the shorter of the two runs (the other runs twice as many).", DefaultValueFactory = _ => 200 };
        var check = new Command("check", "Run the file's service natively and print the per-request figures the simulation produced beside those the file asked for; exit 1 if a figure the model makes from the file is more than 5% off.")
        {
            file, profile, size,
        };
        check.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            string workload = WorkloadFile.Names(path) ? path : WorkloadFile.Prefix + path;
            IReadOnlyList<CheckedFigure> figures;
            try
            {
                if (parse.GetValue(size) is < 10 or > 1_000_000)
                {
                    throw new ScenarioException($"--size must be from 10 to 1000000 requests (got {parse.GetValue(size)}).");
                }
                Console.Error.WriteLine($"workload check: {path} natively on {parse.GetValue(profile)}, {parse.GetValue(size)} and {2 * parse.GetValue(size)} requests ...");
                figures = WorkloadCheck.Run(workload, parse.GetValue(profile)!, parse.GetValue(size));
            }
            catch (Exception e) when (UserError.Of(e) is { } message)
            {
                Console.Error.WriteLine($"virtsim workload check: {message}");
                return 2;
            }
            Console.WriteLine("| a request's | the file | simulated | |\n|---|---:|---:|---|");
            foreach (CheckedFigure f in figures)
            {
                string verdict = f.Asked is null ? "measured" : !f.Imposed ? "shown beside the file's, not made from it (docs/planning.md)"
                    : f.Within ? "within 5%" : "MORE THAN 5% OFF";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {f.Quantity} | {(f.Asked is { } a ? a.ToString("G6", CultureInfo.InvariantCulture) : "")} | {f.Simulated:G6} | {verdict} |"));
            }
            CheckedFigure[] off = [.. figures.Where(f => f.Imposed && !f.Within)];
            if (off.Length > 0)
            {
                Console.Error.WriteLine($"virtsim workload check: the model did not reproduce {string.Join(", ", off.Select(f => f.Quantity))} within 5%.");
                return 1;
            }
            return 0;
        });
        command.Subcommands.Add(check);
        return command;
    }
}
