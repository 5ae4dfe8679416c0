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
        return command;
    }
}
