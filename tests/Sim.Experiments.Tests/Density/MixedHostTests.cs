using Sim.Experiments.Density;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Density;

/// <summary>Mixed hosts: guests of other workloads alongside the searched ones, each held to its own level, and the interference the report shows.</summary>
public class MixedHostTests
{
    /// <summary>Web guests at 2,000 requests/s searched beside two database guests (oltp), VMs of 128 MiB on 2 GiB.</summary>
    private const string Mixed = """
        name: mixed
        base:
          workload: web
          request_rate: 2000
          size: 60
          profile: nehalem-x5570
          host_memory_mib: 2048
          guest_memory_mib: 128
        presets: [type1]
        slo: response_p99 <= 600
        max_guests: 8
        seeds: 1
        alongside:
          - name: db
            workload: oltp
            guests: 2
            slo: transactions >= 100
        """;

    [Fact]
    public void The_searched_guests_come_first_then_each_group_s_at_its_own_size_and_rate()
    {
        DensityStudy study = DensityStudy.Parse(Mixed.Replace("    slo: transactions >= 100", "    slo: transactions >= 100\n  - {name: front, workload: web, guests: 1, size: 40, request_rate: 500, slo: 'response_p99 <= 900'}", StringComparison.Ordinal), "m.yaml", "m");
        Assert.Equal(["db", "front"], study.Alongside.Select(g => g.Name));
        Assert.Equal(3, study.FixedGuests);
        Assert.Equal(8, study.MaxGuests);
        Assert.Equal(4, DensityStudy.Parse(Mixed.Replace("guests: 2", "guests: 250", StringComparison.Ordinal).Replace("max_guests: 8", "max_guests: 100", StringComparison.Ordinal), "m.yaml", "m").MaxGuests); // the groups' guests count against the host's 254
        WorkloadScenario at = study.At("type1", 3);
        Assert.Equal(6, at.Guests);
        Assert.Equal("web:60,web:60,oltp,oltp,web:40@500", at.GuestWorkloads);
        Consolidation c = at.ResolveConsolidation();
        Assert.Equal(6, c.Guests);
        Assert.Equal([60L, 60, 100, 100, 40], c.Others!.Select(o => o.Size));
        Assert.Null(at.FirstProblem());

        // The study reads back from its results folder's study.json as it was.
        DensityStudy again = DensityStudy.Parse(Sim.Experiments.Output.JsonText.Of(study.Resolved()), "study.json", "m");
        Assert.Equal(study.Alongside, again.Alongside);
        Assert.Equal(study.At("type1", 2), again.At("type1", 2));
    }

    [Theory]
    [InlineData("alongside: []", "line 12: alongside is a list of groups of guests that share the host")]
    [InlineData("alongside:\n  - {workload: oltp, guests: 2}", "line 13: alongside: slo is missing")]
    [InlineData("alongside:\n  - {workload: oltp, guests: 0, slo: 'transactions >= 1'}", "line 13: alongside: guests is how many guests of the group the host runs, 1 to 253")]
    [InlineData("alongside:\n  - {workload: oltp, guests: 1, slo: 'transactions >= 1', colour: red}", "line 13: alongside: unknown key 'colour'; a group of guests has name, workload, guests, slo, size, request_rate")]
    [InlineData("alongside:\n  - {workload: oltp, guests: 1, slo: 'response_p99 <= 5'}", "line 13: alongside db: slo: oltp reports no figure of merit 'response_p99'; it reports transactions")]
    [InlineData("alongside:\n  - {workload: oltp, guests: 1, slo: 'transactions >= 1', request_rate: 50}", "line 13: alongside: request_rate is for the services with an open-loop client")]
    [InlineData("alongside:\n  - {workload: nosuch, guests: 1, slo: 'x >= 1'}", "line 13: alongside: there is no workload 'nosuch'")]
    [InlineData("alongside:\n  - {workload: web, guests: 1, slo: 'requests >= 1'}", "alongside: two groups are named 'web' (or the base's workload is)")]
    [InlineData("alongside:\n  - {workload: oltp, guests: 200, slo: 'transactions >= 1'}\n  - {name: more, workload: oltp, guests: 54, slo: 'transactions >= 1'}", "line 14: alongside: the groups' 254 guests leave no room for a guest searched; the host's guests together are at most 254")]
    public void A_bad_group_is_refused_with_its_line_and_what_is_allowed(string group, string expected)
    {
        string text = Mixed[..Mixed.IndexOf("alongside:", StringComparison.Ordinal)].Replace("name: mixed\n", "", StringComparison.Ordinal) + group;
        var e = Assert.Throws<ScenarioException>(() => DensityStudy.Parse(text.Replace("alongside db:", "", StringComparison.Ordinal), "m.yaml", "m"));
        Assert.Contains(expected.Replace("alongside db:", "alongside oltp:", StringComparison.Ordinal), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guest_workloads_take_a_size_a_rate_and_workload_files()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "workloads", "shop-example.yaml");
        var s = new WorkloadScenario { Workload = "web", Profile = "nehalem-x5570", Preset = "type1", GuestWorkloads = $"web:30@250,file:{file}:20@100,file:{file}" };
        Assert.Null(s.FirstProblem());
        Consolidation c = s.ResolveConsolidation();
        Assert.Equal(4, c.Guests);
        Assert.Equal(("web", 30L), (c.Others![0].Workload.Name, c.Others[0].Size));
        Assert.Equal(("shop-example", 20L), (c.Others[1].Workload.Name, c.Others[1].Size));
        Assert.Equal(WorkloadFile.DefaultSize, c.Others[2].Size);
        Assert.Single((string[])s.Resolved()["guest_workloads_sha256"]); // the file, once, as it was

        Assert.Contains("'web:0' is not a workload with a size and a rate: ':0' is neither", (s with { GuestWorkloads = "web:0" }).FirstProblem(), StringComparison.Ordinal);
        Assert.Contains("'web@fast' is not a workload with a size and a rate: '@fast'", (s with { GuestWorkloads = "web@fast" }).FirstProblem(), StringComparison.Ordinal);
        Assert.Contains("'stream@10' gives a request rate, and stream has no open-loop client", (s with { GuestWorkloads = "stream@10" }).FirstProblem(), StringComparison.Ordinal);
        Assert.Contains("guest_workloads: ", (s with { GuestWorkloads = "file:/nonexistent.yaml" }).FirstProblem(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_guest_is_held_to_its_own_level_and_the_report_shows_each_alone_and_with_the_others()
    {
        DensityStudy study = DensityStudy.Parse(Mixed, "mixed.yaml", "mixed");
        DensityResult r = DensitySearch.Run(study).Single();
        Assert.True(r.Density >= 1, $"{r.Density} web guests beside the database");
        Assert.All(r.Probes, p => Assert.Equal(study.Alongside, p.Alongside));
        Assert.All(r.Probes.Where(p => p.Refused is null), p => Assert.InRange(p.Runs[0].AlongsideWorst[0], 100, 1e6)); // the database kept its level in every probe
        Assert.Equal(2, r.Alone.Count);
        Assert.Equal(("us", "transactions/s"), (r.Alone[0].Unit, r.Alone[1].Unit));
        Assert.True(r.AtDensity!.AlongsideSummary(0).Mean < r.Alone[1].Worst, "the database serves fewer transactions beside the web guests than alone");
        Assert.All(r.Probes.Where(p => p.Refused is null).SelectMany(p => p.Use.Resources).Where(u => u.Kind is "disk" or "wire"), u => Assert.InRange(u.Utilization, 0, 1.0001)); // over the run to the last guest's end
        string report = DensityReport.ToMarkdown(study, r is var one ? [one] : []);
        Assert.Contains("beside 2 guests of `db` keeping `transactions >= 100`", report, StringComparison.Ordinal);
        Assert.Contains("| type1 | db | 2 | transactions >= 100 |", report, StringComparison.Ordinal);
        Assert.Contains($"| type1 | web (searched) | {r.Density} ({r.Density + 1} at the first miss) |", report, StringComparison.Ordinal);
        Assert.Contains($"at {r.Density + 1} searched guests, the searched web guests missed the level", report, StringComparison.Ordinal);
        InterferenceChart.Slowdown db = InterferenceChart.Of(study, [r]).Single(s => s.Workload == "db");
        Assert.True(db.AtDensity > 1, "fewer transactions than alone is a slowdown over 1");

        // A database level it keeps alone but not beside one web guest: no web guest may join.
        DensityStudy strict = DensityStudy.Parse(Mixed.Replace("transactions >= 100", "transactions >= 1500", StringComparison.Ordinal), "strict.yaml", "strict");
        DensityResult none = DensitySearch.Run(strict).Single();
        Assert.Equal((0, "service level"), (none.Density, none.BoundBy));
        Assert.True(none.Alone[1].Met, "alone, the database keeps 1,500 transactions/s");
        Assert.Equal(["db"], none.FirstMiss!.GroupsMissing.Select(g => g.Name));
        Assert.Contains("at 1 searched guests, db alongside missed the level", DensityReport.Interference(strict, [none]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_mixed_search_resumed_from_its_kept_runs_writes_the_same_bytes()
    {
        DensityStudy study = DensityStudy.Parse(Mixed.Replace("max_guests: 8", "max_guests: 2", StringComparison.Ordinal), "mixed.yaml", "mixed");
        string target = Path.Combine(Path.GetTempPath(), $"virtsim-mixed-{Environment.ProcessId}", "results");
        try
        {
            string whole = DensityConfidenceTests.Text(study, DensitySearch.Run(study, kept: ProbeStore.Open(study, target, "test", restart: false)));
            Assert.Contains(Directory.GetFiles(ProbeStore.FolderFor(target)), f => f.EndsWith("type1-alone1-s001.json", StringComparison.Ordinal)); // the database alone, kept too
            ProbeStore again = ProbeStore.Open(study, target, "test", restart: false);
            Assert.Equal(whole, DensityConfidenceTests.Text(study, DensitySearch.Run(study, kept: again)));
            Assert.True(again.Reused > 2, "every run came from the store");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(target)!, recursive: true);
        }
    }
}
