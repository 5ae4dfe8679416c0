using Sim.Experiments.Output;
using Sim.Experiments.Tour;

namespace Sim.Cli;

/// <summary>
/// The tour, what <c>virtsim run</c> does with no arguments: every workload of the tour natively
/// and under the five architectures, with progress; the slowdowns and traps printed; a results
/// folder with the tables, the report, one picture of where the cycles go, the resolved tour and
/// the manifest.
/// </summary>
internal static class TourRunner
{
    public const string DefaultOut = "runs/tour";

    public static int Execute(ArchitectureTour tour, string target, bool replace, int threads, bool json)
    {
        if (tour.Problem() is { } problem)
        {
            return WorkloadRunner.Fail(problem + ".");
        }
        IReadOnlyList<TourResult> results = [];
        string written;
        try
        {
            written = ResultsFolder.Produce(target, replace, folder =>
            {
                DateTimeOffset started = DateTimeOffset.UtcNow; // for the manifest only: results never see the wall clock
                var progress = new Progress("tour ");
                results = tour.Run(threads, (done, total) => progress.Report(done, total, "runs"));
                folder.WriteText("slowdowns.csv", w => TourReport.WriteSlowdowns(w, results));
                folder.WriteText("exits.csv", w => TourReport.WriteExits(w, results));
                folder.WriteText("cycles.csv", w => TourReport.WriteCycles(w, results));
                folder.WriteText("summary.json", w => w.Write(TourReport.ToJson(tour, results)));
                folder.WriteText("report.md", w => w.Write(TourReport.ToMarkdown(tour, results)));
                folder.WriteBinary("cycles.png", s => s.Write(TourChart.Png($"Where the cycles go on {tour.Profile}: each workload under each architecture", results)));
                string resolved = JsonText.Of(tour.Resolved());
                folder.WriteText("scenario.json", w => w.Write(resolved));
                (string version, string commit) = VersionCommand.ProgramVersion();
                folder.WriteText("manifest.json", w => w.Write(Manifest.Json(version, commit, tour.Seed, resolved, started, DateTimeOffset.UtcNow)));
            });
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return WorkloadRunner.Fail(message);
        }
        Console.Write(json ? TourReport.ToJson(tour, results) : TourReport.ToText(tour, results) +
            $"\nWhere the cycles go: {Path.Combine(written, "cycles.png")}; every figure in {written} (report.md, slowdowns.csv, exits.csv, cycles.csv).\n" +
            "Next: 'virtsim explain --workload in --compare' steps through one trap ('virtsim serve': the same in a browser); 'virtsim compare --workload NAME' puts any workload under every preset;\n" +
            "'virtsim run --workload NAME --preset type1' runs one; 'virtsim density' asks how many guests fit; 'virtsim engine-check' checks the event engine.\n");
        return 0;
    }
}
