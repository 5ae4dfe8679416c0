using System.CommandLine;
using Sim.Experiments.Calibration;
using Sim.Models.Hardware;

namespace Sim.Cli;

/// <summary><c>virtsim calibrate</c>: the native nanobenchmarks of Adams and Agesen against their published cycles (as docs/calibration.md).</summary>
internal static class CalibrateCommand
{
    public static Command Build()
    {
        var profile = new Option<string>("--profile") { Description = "Hardware profile to measure on.", DefaultValueFactory = _ => PublishedNative.Profile };
        var iterations = new Option<int>("--iterations") { Description = "Loop iterations per measurement (at least 10).", DefaultValueFactory = _ => CalibrationReport.DefaultIterations };
        var command = new Command("calibrate", "Run the native nanobenchmarks (syscall, in, cr8wr, callret, pgfault, divzero, ptemod) and compare with the published cycles.")
        {
            profile, iterations,
        };
        command.SetAction(parse =>
        {
            try
            {
                HardwareProfile p = HardwareProfiles.Get(parse.GetValue(profile)!);
                int n = parse.GetValue(iterations);
                Console.Write(CalibrationReport.ToMarkdown(p, CalibrationReport.MeasureAll(p, n), n));
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"virtsim calibrate: {e.Message.Split(" (Parameter")[0]}");
                return 2;
            }
        });
        return command;
    }
}
