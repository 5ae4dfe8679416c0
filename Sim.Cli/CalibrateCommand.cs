using System.CommandLine;
using Sim.Experiments.Calibration;

namespace Sim.Cli;

/// <summary><c>virtsim calibrate</c>: the native nanobenchmarks of Adams and Agesen against their published cycles (as docs/calibration.md).</summary>
internal static class CalibrateCommand
{
    public static Command Build() => ProfileReportCommand.Build("calibrate",
        "Run the native nanobenchmarks (syscall, in, cr8wr, callret, pgfault, divzero, ptemod) and compare with the published cycles.",
        (profile, n) => CalibrationReport.ToMarkdown(profile, CalibrationReport.MeasureAll(profile, n), n));
}
