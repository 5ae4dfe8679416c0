using System.CommandLine;
using Sim.Experiments.Reports;
using Sim.Models.Hardware;

namespace Sim.Cli;

/// <summary><c>virtsim profiles</c>: the hardware profiles with every figure and its source (as docs/hardware-profiles.md).</summary>
internal static class ProfilesCommand
{
    public static Command Build()
    {
        var name = new Argument<string?>("name") { Description = "Print only this profile.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("profiles", "List the hardware profiles (CPU generations) with their figures and sources.") { name };
        command.SetAction(parse =>
        {
            string? only = parse.GetValue(name);
            try
            {
                IEnumerable<HardwareProfile> profiles = only is null ? HardwareProfiles.All : [HardwareProfiles.Get(only)];
                Console.Write(HardwareProfileReport.ToMarkdown(profiles));
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"virtsim profiles: {e.Message.Split(" (Parameter")[0]}");
                return 2;
            }
        });
        command.Subcommands.Add(BuildShow());
        return command;
    }

    /// <summary><c>virtsim profiles show NAME</c>: a built-in profile as a profile file, for a planner to start their own host from (docs/planning.md).</summary>
    private static Command BuildShow()
    {
        var name = new Argument<string>("name") { Description = "The built-in profile to write as a file." };
        var show = new Command("show", "Print a built-in hardware profile as a profile file (YAML), every figure and its sources: save it, change what your host has, and run with --profile file:PATH.") { name };
        show.SetAction(parse =>
        {
            try
            {
                Console.Write(Sim.Experiments.Scenarios.ProfileFile.Write(HardwareProfiles.Get(parse.GetValue(name)!)));
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"virtsim profiles show: {e.Message.Split(" (Parameter")[0]}");
                return 2;
            }
        });
        return show;
    }
}
