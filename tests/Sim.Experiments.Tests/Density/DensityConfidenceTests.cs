using Sim.Experiments.Density;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Tests.Density;

/// <summary>A density answer to trust: each probe's seeds and the interval on the density, the binding resource named by mechanism, the search's assumption checked, and a search resumed from its kept runs to the same bytes.</summary>
public class DensityConfidenceTests
{
    /// <summary>Containers of web services at 4,000 requests/s each on one Nehalem core, every guest's p99 within 5 ms: the core saturates near ten.</summary>
    private const string CpuBound = """
        base:
          workload: web
          request_rate: 4000
          size: 200
          profile: nehalem-x5570
        presets: [oslevel]
        slo: response_p99 <= 5000
        max_guests: 16
        seeds: 3
        """;

    private static DensityStudy Study(string text, string name = "s") => DensityStudy.Parse(text, name + ".yaml", name);

    [Fact]
    public void Each_probe_runs_the_study_s_seeds_and_the_density_carries_its_95_percent_interval()
    {
        DensityStudy study = Study(CpuBound);
        Assert.Equal(DensityStudy.DefaultSeeds, Study(CpuBound.Replace("seeds: 3", "", StringComparison.Ordinal)).Seeds);
        DensityResult r = DensitySearch.Run(study).Single();
        Assert.All(r.Probes, p => Assert.Equal([42UL, 43UL, 44UL], p.Runs.Select(run => run.Seed)));
        DensityProbe at = r.AtDensity!;
        Assert.Equal(at.Runs.Average(run => run.Worst), at.Worst, 9);
        Assert.True(at.Summary.HalfWidth > 0, "three seeds' arrivals differ, and so do their worst guests");

        // The interval: the most guests the whole interval keeps, up to the most it does not miss.
        Assert.InRange(r.Density, r.Low, r.High);
        Assert.Equal(Verdict.Kept, r.Probes.Single(p => p.Guests == r.Low).Verdict);
        Assert.All(r.Probes.Where(p => p.Guests > r.Low && p.Guests <= r.Density), p => Assert.NotEqual(Verdict.Kept, p.Verdict));
        Assert.All(r.Probes.Where(p => p.Guests > r.Density && p.Guests <= r.High), p => Assert.Equal(Verdict.TooClose, p.Verdict));
        Assert.Equal(Verdict.Missed, r.Probes.Single(p => p.Guests == r.High + 1).Verdict);
        Assert.Equal(r.Low == r.High ? $"{r.Density}" : $"{r.Density} ({r.Low}-{r.High} at 95%)", r.WithInterval);
        DensityProbe next = r.Probes.Single(p => p.Guests == r.Density + 1);
        Assert.Equal($"{r.Density + 1} missed the level in {next.SeedsMissed} of 3 seeds", r.NextCount);
        Assert.Contains(r.WithInterval, DensityReport.Table(study, [r]), StringComparison.Ordinal);

        // One seed is judged on its value: no interval, every verdict kept or missed.
        DensityResult one = DensitySearch.Run(study.With(null, null, null, seeds: 1)).Single();
        Assert.Equal((one.Density, one.Density), (one.Low, one.High));
        Assert.DoesNotContain(one.Probes, p => p.Verdict == Verdict.TooClose);
        Assert.Equal(DensitySearch.Run(study.With(null, null, null, seeds: 1)).Single().Probes.Select(p => p.Worst), one.Probes.Select(p => p.Worst));
    }

    [Fact]
    public void The_binding_resource_is_named_by_mechanism_the_cpu_the_memory_or_the_wire()
    {
        // The core: at the first count that misses the level it is saturated.
        DensityResult cpu = DensitySearch.Run(Study(CpuBound.Replace("seeds: 3", "seeds: 1", StringComparison.Ordinal))).Single();
        Assert.StartsWith("host.cpu0 (cpu, busy ", cpu.Binding, StringComparison.Ordinal);
        Assert.EndsWith("saturated)", cpu.Binding, StringComparison.Ordinal);

        // The memory: VMs of 256 MiB reserved whole on a 1 GiB host; two fit.
        DensityResult memory = DensitySearch.Run(Study("""
            base: {workload: web, request_rate: 500, size: 60, profile: nehalem-x5570, host_memory_mib: 1024, guest_memory_mib: 256}
            presets: [type1]
            slo: response_p99 <= 5000
            max_guests: 4
            seeds: 1
            """)).Single();
        Assert.Equal(("memory", 2), (memory.BoundBy, memory.Density));
        Assert.StartsWith("host.memory (", memory.Binding, StringComparison.Ordinal);
        HostResource held = memory.AtDensity!.Use.Resources.Single(u => u.Kind == "memory");
        Assert.InRange(held.Utilization, (2 * 256 + 256) / 1024.0, 1); // the VMs' reservations and the hypervisor's allowance

        // The wire: containers' streams on six cores behind the 82599, each on its own queue; at five the 10 Gb/s port is full.
        DensityResult wire = DensitySearch.Run(Study("""
            base: {workload: netperf-stream, profile: nehalem-x5570, size: 2000, host_cores: 6, nic: 82599}
            presets: [oslevel]
            slo: throughput >= 2000
            max_guests: 6
            seeds: 1
            """)).Single();
        Assert.Equal(4, wire.Density);
        Assert.StartsWith("host.link to the peer (wire, busy ", wire.Binding, StringComparison.Ordinal);
        Assert.Contains("| host.link to the peer | wire |", DensityReport.Resources([wire]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_probe_that_breaks_the_assumption_that_service_gets_no_better_with_more_guests_is_flagged()
    {
        ServiceLevel slo = ServiceLevel.Parse("response_p99 <= 100", "t");
        DensityProbe Probe(int guests, params double[] worst) => new("oslevel", guests, null, "us",
            [.. worst.Select((w, i) => new ProbeRun(42 + (ulong)i, w, [new Metric("response_p99", w, "us")], 1, new HostUse([])))], slo);
        Assert.Empty(DensitySearch.Anomalies([Probe(1, 50, 52, 51), Probe(2, 80, 82, 81), Probe(4, 120, 125, 122)]));
        IReadOnlyList<string> inverted = DensitySearch.Anomalies([Probe(1, 50, 52, 51), Probe(2, 120, 125, 122), Probe(4, 80, 82, 81)]);
        Assert.Equal(["4 guests kept the level where 2 missed it"], inverted);
        IReadOnlyList<string> better = DensitySearch.Anomalies([Probe(1, 60, 61, 62), Probe(2, 30, 31, 32)]);
        Assert.Single(better);
        Assert.StartsWith("2 guests' worst response_p99 (31 us) is better than 1's (61)", better[0], StringComparison.Ordinal);
        Assert.Empty(DensitySearch.Anomalies([Probe(1, 60, 20, 62), Probe(2, 30, 70, 32)])); // intervals that overlap say nothing
    }

    [Fact]
    public void A_search_resumed_from_its_kept_runs_writes_the_same_bytes_and_a_changed_study_is_refused()
    {
        string target = Path.Combine(Path.GetTempPath(), "virtsim-density-" + Guid.NewGuid().ToString("N"), "out");
        DensityStudy study = Study(CpuBound.Replace("seeds: 3", "seeds: 2", StringComparison.Ordinal), "resume");
        try
        {
            ProbeStore store = ProbeStore.Open(study, target, "test 1", restart: false);
            string whole = Text(study, DensitySearch.Run(study, kept: store));
            string folder = ProbeStore.FolderFor(target);
            string[] runs = [.. Directory.GetFiles(folder, "oslevel-*.json").Order(StringComparer.Ordinal)];
            Assert.Equal(DensitySearch.Run(study).Single().Probes.Count * 2, runs.Length);

            // Interrupted: half the runs kept, one of them cut short as a kill would leave it.
            foreach (string f in runs.Skip(runs.Length / 2))
            {
                File.Delete(f);
            }
            File.WriteAllText(runs[0], File.ReadAllText(runs[0])[..40]);
            ProbeStore again = ProbeStore.Open(study, target, "test 1", restart: false);
            Assert.Equal(whole, Text(study, DensitySearch.Run(study, kept: again)));
            Assert.Equal(runs.Length / 2 - 1, again.Reused);

            // A changed study is refused with what changed; --restart discards the runs; another program's runs are not trusted.
            DensityStudy changed = Study(CpuBound.Replace("request_rate: 4000", "request_rate: 3000", StringComparison.Ordinal).Replace("seeds: 3", "seeds: 2", StringComparison.Ordinal), "resume");
            var e = Assert.Throws<ScenarioException>(() => ProbeStore.Open(changed, target, "test 1", restart: false));
            Assert.Contains("holds the runs of an interrupted search of a different study (base.request_rate 4000 -> 3000); run", e.Message, StringComparison.Ordinal);
            Assert.Contains("--restart", e.Message, StringComparison.Ordinal);
            ProbeStore.Open(changed, target, "test 1", restart: true);
            Assert.Empty(Directory.GetFiles(folder, "oslevel-*.json"));
            ProbeStore.Open(study, target, "test 1", restart: true).Keep(new ProbeKey("oslevel", 1, false, 0), new ProbeRun(42, 1, [], 1, new HostUse([])));
            ProbeStore other = ProbeStore.Open(study, target, "test 2", restart: false);
            Assert.Null(other.Known(new ProbeKey("oslevel", 1, false, 0)));
            other.Remove();
            Assert.False(Directory.Exists(folder));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(target)!, recursive: true);
        }
    }

    /// <summary>Every text file a study's results folder holds, together (interference.csv only on a mixed host).</summary>
    internal static string Text(DensityStudy study, IReadOnlyList<DensityResult> results)
    {
        using var probes = new StringWriter();
        using var densities = new StringWriter();
        using var interference = new StringWriter();
        DensityReport.WriteProbes(probes, study, results);
        DensityReport.WriteDensities(densities, results);
        if (study.Alongside.Count > 0)
        {
            DensityReport.WriteInterference(interference, study, results);
        }
        return probes + densities.ToString() + interference + DensityReport.ToMarkdown(study, results);
    }
}
