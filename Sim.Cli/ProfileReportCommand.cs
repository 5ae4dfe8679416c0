using System.CommandLine;
using Sim.Experiments.Calibration;
using Sim.Models.Hardware;

namespace Sim.Cli;

/// <summary>A command that measures on one profile with a number of loop iterations and prints a Markdown report (calibrate, nanobench).</summary>
internal static class ProfileReportCommand
{
    public static Command Build(string name, string description, Func<HardwareProfile, int, string> report)
    {
        var profile = new Option<string>("--profile") { Description = "Hardware profile to measure on.", DefaultValueFactory = _ => PublishedNative.Profile };
        var iterations = new Option<int>("--iterations") { Description = "Loop iterations per measurement (at least 10).", DefaultValueFactory = _ => CalibrationReport.DefaultIterations };
        var command = new Command(name, description) { profile, iterations };
        command.SetAction(parse =>
        {
            try
            {
                Console.Write(report(HardwareProfiles.Get(parse.GetValue(profile)!), parse.GetValue(iterations)));
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"virtsim {name}: {e.Message.Split(" (Parameter")[0]}");
                return 2;
            }
        });
        return command;
    }
}
