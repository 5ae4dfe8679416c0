using System.CommandLine;
using Sim.Experiments.Comparisons;

namespace Sim.Cli;

/// <summary><c>virtsim nanobench</c>: Adams and Agesen's nanobenchmarks natively, under binary translation and under VT-x, both hosted with shadow paging (docs/nanobenchmarks.md).</summary>
internal static class NanobenchCommand
{
    public static Command Build() => ProfileReportCommand.Build("nanobench",
        "The nanobenchmarks (and forkwait) natively and under the hosted binary-translation and VT-x monitors with shadow paging: cycles per operation.",
        (profile, n) => NanobenchmarkTable.ToMarkdown(profile, NanobenchmarkTable.Measure(profile, n), n));
}
