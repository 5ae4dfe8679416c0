using System.CommandLine;
using Sim.Experiments.Calibration;
using Sim.Experiments.Comparisons;
using Sim.Models.Hardware;

namespace Sim.Cli;

/// <summary><c>virtsim nanobench</c>: Adams and Agesen's nanobenchmarks natively, under binary translation and under VT-x, both hosted with shadow paging (docs/nanobenchmarks.md).</summary>
internal static class NanobenchCommand
{
    public static Command Build()
    {
        var profile = new Option<string>("--profile") { Description = "Hardware profile to measure on.", DefaultValueFactory = _ => PublishedNative.Profile };
        var iterations = new Option<int>("--iterations") { Description = "Loop iterations per measurement (at least 10).", DefaultValueFactory = _ => CalibrationReport.DefaultIterations };
        var command = new Command("nanobench", "The nanobenchmarks (and forkwait) natively and under the hosted binary-translation and VT-x monitors with shadow paging: cycles per operation.")
        {
            profile, iterations,
        };
        command.SetAction(parse =>
        {
            try
            {
                HardwareProfile p = HardwareProfiles.Get(parse.GetValue(profile)!);
                int n = parse.GetValue(iterations);
                Console.Write(NanobenchmarkTable.ToMarkdown(p, NanobenchmarkTable.Measure(p, n), n));
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"virtsim nanobench: {e.Message.Split(" (Parameter")[0]}");
                return 2;
            }
        });
        return command;
    }
}
