using Sim.Experiments.Density;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Density;

/// <summary>Density studies: their files, the service level, and the search's answer and its invariants.</summary>
public class DensityTests
{
    /// <summary>A small study: web at 2,000 requests/s per guest, VMs of 256 MiB on a 1 GiB host (3 fit), every guest's p99 within 400 us.</summary>
    private const string Small = """
        base:
          workload: web
          request_rate: 2000
          size: 60
          profile: nehalem-x5570
          host_memory_mib: 1024
          guest_memory_mib: 256
        presets: [type1, oslevel, paravirt]
        slo: response_p99 <= 400
        max_guests: 16
        """;

    [Theory]
    [InlineData("response_p99 <= 2000", "response_p99", true, 2000)]
    [InlineData("requests>=450.5", "requests", false, 450.5)]
    public void A_service_level_is_a_metric_a_comparison_and_a_bound(string text, string metric, bool atMost, double bound)
    {
        ServiceLevel slo = ServiceLevel.Parse(text, "t");
        Assert.Equal(new ServiceLevel(metric, atMost, bound), slo);
        Assert.True(slo.IsMet(bound));
        Assert.False(slo.IsMet(atMost ? bound + 1 : bound - 1));
        Assert.False(slo.IsMet(double.NaN));
        Assert.Equal(atMost ? 7 : 3, slo.Worst([3, 7, 5]));
    }

    [Theory]
    [InlineData("slo: p99 < 5", "is not a service level")]
    [InlineData("slo: p99 <= 5\nsize: 3", "unknown key 'size'")]
    [InlineData("presets: [type1]", "base is missing")]
    [InlineData("base: {workload: web}", "slo is missing")]
    [InlineData("base: {workload: web, guests: 4}\nslo: requests >= 1", "'guests' is what the study varies")]
    [InlineData("base: {workload: web}\nslo: requests >= 1\npresets: [type9]", "'type9' is not a virtualization preset")]
    [InlineData("base: {workload: web}\nslo: requests >= 1\nmax_guests: 0", "max_guests must be a whole number from 1 to 254")]
    [InlineData("base: {workload: web, request_rate: fast}\nslo: requests >= 1", "request_rate: 'fast' is not a number or none")]
    [InlineData("plot: response_p99\nbase: {workload: web}\nslo: requests >= 1", "study.yaml, line 1: plot: web reports no figure of merit 'response_p99'; it reports requests (web reports response times only with request_rate")]
    public void A_bad_study_is_refused_with_what_is_wrong(string text, string message)
    {
        var e = Assert.Throws<ScenarioException>(() => DensityStudy.Parse(text, "study.yaml", "study"));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_metric_the_workload_does_not_report_is_a_clear_error()
    {
        // Refused as the study is read, before any simulation (in the file or from the command line).
        var e = Assert.Throws<ScenarioException>(() => DensityStudy.Parse(Small.Replace("response_p99 <= 400", "latency <= 5", StringComparison.Ordinal), "s.yaml", "s"));
        Assert.Contains("s.yaml: slo: web reports no figure of merit 'latency'; it reports requests, response_mean, response_p50, response_p99", e.Message, StringComparison.Ordinal);
        var flag = Assert.Throws<ScenarioException>(() => DensityStudy.Parse(Small, "s.yaml", "s").With(null, "foo >= 1", null));
        Assert.StartsWith("--slo: slo: web reports no figure of merit 'foo'", flag.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_search_finds_the_most_guests_within_the_level_and_what_stops_each_preset()
    {
        DensityStudy study = DensityStudy.Parse(Small, "small.yaml", "small");
        IReadOnlyList<DensityResult> results = DensitySearch.Run(study);
        Assert.Equal(["type1", "oslevel", "paravirt"], results.Select(r => r.Preset));

        DensityResult paravirt = results[2];
        Assert.Contains("runs one guest", paravirt.Skipped, StringComparison.Ordinal);
        Assert.Empty(paravirt.Probes);

        DensityResult vms = results[0];
        Assert.Equal(2, vms.MemoryBound); // (1024 - 256) / 256 would be 3, but each VM's EPT tables (0.5 MiB) take room too
        Assert.Equal(2, vms.Density);
        Assert.Equal("memory", vms.BoundBy);
        Assert.NotNull(vms.ServiceLevelBound);
        Assert.True(vms.ServiceLevelBound >= 2);

        DensityResult containers = results[1];
        Assert.Equal(16, containers.MemoryBound); // containers reserve nothing: the memory holds as many as the study allows
        Assert.True(containers.Density > vms.Density, $"containers {containers.Density}, VMs {vms.Density}");
        Assert.Equal(256, vms.AtDensity!.MemoryPerGuestMiB); // a VM holds its whole reservation
        Assert.InRange(containers.AtDensity!.MemoryPerGuestMiB, 0.1, 16); // a container, what its processes touched at most
        foreach (DensityResult r in results.Take(2))
        {
            // The answer is a probe that kept the level; the next count up failed it (or there is none).
            Assert.Contains(r.Probes, p => !p.MemoryIgnored && p.Guests == r.Density && p.Met);
            if (r.BoundBy == "service level")
            {
                Assert.Contains(r.Probes, p => p.Guests == r.Density + 1 && !p.Met);
            }
            Assert.All(r.Probes.Where(p => p.Refused is null), p => Assert.Equal("us", p.Unit));
        }
        Assert.Contains("Containers (oslevel) fit", DensityReport.Table(study, results), StringComparison.Ordinal);
        Assert.Equal(results.Select(r => (r.Density, r.BoundBy, string.Join(";", r.Probes))), DensitySearch.Run(study).Select(r => (r.Density, r.BoundBy, string.Join(";", r.Probes))));
    }

    [Fact]
    public void With_guest_memory_backed_on_first_touch_VMs_are_bound_by_what_they_touch_not_by_their_reservation()
    {
        DensityStudy study = DensityStudy.Parse(Small.Replace("guest_memory_mib: 256", "guest_memory_mib: 256\n  guest_memory_backing: on_touch", StringComparison.Ordinal)
            .Replace("presets: [type1, oslevel, paravirt]", "presets: [type1]", StringComparison.Ordinal)
            .Replace("response_p99 <= 400", "response_p99 <= 2000", StringComparison.Ordinal), "touch.yaml", "touch"); // a level that reserved memory, not service, binds at 2 (400 us: the first touches' exits alone cost the second guest its level)
        DensityResult vms = DensitySearch.Run(study).Single();
        Assert.Equal(16, vms.MemoryBound); // nothing reserved: the memory holds as many as the study allows
        Assert.True(vms.Density > 2, $"{vms.Density} VMs, against 2 with their memory reserved");
        Assert.NotEqual("memory", vms.BoundBy);
        Assert.InRange(vms.AtDensity!.MemoryPerGuestMiB, 0.1, 16); // what each touched, with its EPT and per-vCPU frames
    }

    [Fact]
    public void The_resolved_study_reads_back_as_the_same_study()
    {
        DensityStudy study = DensityStudy.Parse(Small, "small.yaml", "small");
        DensityStudy again = DensityStudy.Parse(Sim.Experiments.Output.JsonText.Of(study.Resolved()), "study.json", "small");
        Assert.Equal(study.Base, again.Base);
        Assert.Equal(study.Presets, again.Presets);
        Assert.Equal(study.Slo, again.Slo);
        Assert.Equal(study.MaxGuests, again.MaxGuests);
    }
}
