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
        seeds: 1
        """;

    [Fact]
    public void A_study_base_may_limit_the_containers_and_the_limits_apply_under_oslevel_only()
    {
        DensityStudy study = DensityStudy.Parse(Small.Replace("guest_memory_mib: 256", "guest_memory_mib: 256\n  container_memory_mib: 48\n  container_cpus: 0.5", StringComparison.Ordinal), "s.yaml", "s");
        WorkloadScenario containers = study.At("oslevel", 2), vms = study.At("type1", 2);
        Assert.Equal(48, containers.ContainerMemoryMiB);
        Assert.Equal(0.5, containers.ContainerCpus);
        Assert.Null(containers.FirstProblem());
        Assert.Null(vms.ContainerMemoryMiB);
        Assert.Null(vms.FirstProblem());
        Assert.Equal(48L, study.Resolved()["base"] is IReadOnlyDictionary<string, object> b ? b["container_memory_mib"] : null);
    }

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
    [InlineData("base: {workload: web}\nslo: requests >= 1\nseeds: 0", "study.yaml, line 3: seeds must be a whole number from 1 to 100")]
    [InlineData("base: {workload: web}\nslo: requests >= 1\nseeds: many", "study.yaml, line 3: seeds must be a whole number from 1 to 100")]
    [InlineData("name: ../elsewhere\nbase: {workload: web}\nslo: requests >= 1", "study.yaml, line 1: name is the study's name in its report and its default folder")]
    [InlineData("base: {workload: web, request_rate: fast}\nslo: requests >= 1", "request_rate: 'fast' is not a number or none")]
    [InlineData("plot: response_p99\nbase: {workload: web}\nslo: requests >= 1", "study.yaml, line 1: plot: web reports no figure of merit 'response_p99'; it reports requests (web reports response times only with request_rate")]
    [InlineData("base: {workload: web}\nslo: requests >= 1\novercommit: swap", "study.yaml, line 3: overcommit: 'swap' is not a policy; the policies are none, balloon, ksm, balloon+ksm.")]
    [InlineData("base: {workload: web}\nslo: requests >= 1\novercommit: ksm\novercommit_ratio: 0.5", "study.yaml, line 4: overcommit_ratio is the VMs' memory over the host's, a number of at least 1 (got 0.5).")]
    [InlineData("base: {workload: web}\nslo: requests >= 1\novercommit_ratio: 2", "study.yaml, line 3: overcommit_ratio 2 needs an overcommit policy (balloon, ksm, balloon+ksm)")]
    [InlineData("base: {workload: web, profile: core2-merom}\nslo: requests >= 1\novercommit: balloon", "study.yaml, line 3: overcommit: balloon backs each VM's memory on first touch, and preset 'type1' cannot: guest_memory_backing on_touch backs a page at the EPT violation of its first touch, so it needs nested paging")]
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
    public void A_memory_service_level_counts_each_guests_major_faults_per_second_and_needs_swap()
    {
        // A container held to 5 MiB running four compilers at once, with swap (a study's base cannot hold a container's limit, so the study is made here).
        var swapping = new WorkloadScenario { Workload = "kernel-build", Size = 8, Jobs = 4, Profile = "nehalem-x5570", ContainerMemoryMiB = 5, SwapMiB = 64 };
        var study = new DensityStudy("swap", swapping, ["oslevel"], ServiceLevel.Parse("major_faults_per_s <= 1000", "swap"), 2) { Seeds = 1 };
        DensityProbe kept = DensitySearch.Run(study, "oslevel", 1);
        Assert.Null(kept.Refused);
        Assert.Equal("/s", kept.Unit);
        Assert.True(kept.Worst > 0 && kept.Met, $"{kept.Worst} major faults a second: the container read a page back from swap");
        DensityProbe missed = DensitySearch.Run(study with { Slo = ServiceLevel.Parse("major_faults_per_s <= 1", "swap") }, "oslevel", 1);
        Assert.Equal(kept.Worst, missed.Worst);
        Assert.False(missed.Met);

        var refused = Assert.Throws<ScenarioException>(() => DensityStudy.Parse(Small.Replace("response_p99 <= 400", "major_faults_per_s <= 10", StringComparison.Ordinal), "noswap.yaml", "noswap"));
        Assert.Contains("noswap.yaml: slo: major_faults_per_s counts the faults that waited for a page read from swap, and the base has swap_mib 0", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_search_finds_the_most_guests_within_the_level_and_what_stops_each_preset()
    {
        // A level the second VM keeps (its p99 is about 470 us with QEMU's e1000 summing each frame), so that memory binds the VMs at 2.
        DensityStudy study = DensityStudy.Parse(Small.Replace("response_p99 <= 400", "response_p99 <= 600", StringComparison.Ordinal), "small.yaml", "small");
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
    public void Overcommitted_VMs_are_bound_by_the_ratio_by_what_their_boots_hold_and_merging_keeps_one_copy_of_their_image()
    {
        // VMs of 128 MiB whose boots leave 48 MiB of their image cached and 8 MiB of daemons' memory, on 512 MiB (256 beside the hypervisor's),
        // at 1,500 requests a second each (at 2,000 their one core misses the level at five VMs, before the ratio binds).
        const string Booted = """
            base:
              workload: web
              request_rate: 1500
              size: 60
              profile: nehalem-x5570
              host_memory_mib: 512
              guest_memory_mib: 128
              guest_boot_cache_mib: 48
              guest_boot_anon_mib: 8
            presets: [type1]
            slo: response_p99 <= 2000
            max_guests: 16
            seeds: 1
            """;
        DensityStudy study = DensityStudy.Parse(Booted, "booted.yaml", "booted");
        Assert.Equal(1, DensitySearch.Run(study).Single().Density); // reserved whole, 1 fits (a second's 128 MiB would, but not with the EPT tables)

        // Backed on touch, the ratio is the admission bound: 2 x 256 / 128 = 4 VMs, and all of them keep the level.
        DensityResult balloon = DensitySearch.Run(study.With(null, null, null, overcommit: "balloon", overcommitRatio: 2)).Single();
        Assert.Equal(("overcommit ratio", 4, 4), (balloon.BoundBy, balloon.MemoryBound, balloon.Density));
        Assert.True(balloon.ServiceLevelBound > 4, "past the ratio, the level allows more");
        Assert.InRange(balloon.AtDensity!.MemoryPerGuestMiB, 56, 64); // the boot's 56 MiB and a little: the balloon took free, never-backed pages

        // With a ratio past what the boots fit, memory binds: each VM's 56 MiB fill 256 MiB at the fifth; merging keeps one copy of the 48 MiB.
        // Said before any simulation: 5 x 56 = 280 MiB of boots do not fit 256; a balloon set at boot leaving each 16 MiB, all but the last settle to that.
        Assert.Equal(4, DensitySearch.MemoryBound(study with { Base = study.Base with { GuestMemoryBacking = "on_touch" } }, "type1", 16));
        Assert.Equal(13, DensitySearch.MemoryBound(study.With(null, null, null, overcommit: "balloon", overcommitRatio: 8), "type1", 16));
        DensityResult ksm = DensitySearch.Run(study.With(null, null, null, overcommit: "ksm", overcommitRatio: 8)).Single();
        Assert.Equal("service level", ksm.BoundBy);
        Assert.True(ksm.Density > 4, $"{ksm.Density} VMs with their image's pages merged");
        Assert.InRange(ksm.AtDensity!.MemoryPerGuestMiB, 8, 56 - (48.0 * (ksm.Density - 1) / ksm.Density) + 7); // each holds its own pages and a share of the image's, beside its kernel's boot structures (mem_map alone 2 MiB) and its server's 4.4 MB
        Assert.Contains("overcommit ksm", DensityReport.MemoryPolicy(study.With(null, null, null, overcommit: "ksm")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_resolved_study_reads_back_as_the_same_study()
    {
        DensityStudy study = DensityStudy.Parse(Small, "small.yaml", "small");
        DensityStudy again = DensityStudy.Parse(Sim.Experiments.Output.JsonText.Of(study.Resolved()), "study.json", "study");
        Assert.Equal("small", again.Name); // the file's name, not the results folder's study.json
        Assert.Equal(study.Base, again.Base);
        Assert.Equal(study.Presets, again.Presets);
        Assert.Equal(study.Slo, again.Slo);
        Assert.Equal(study.MaxGuests, again.MaxGuests);
        Assert.Equal(study.Seeds, again.Seeds);
        DensityStudy overcommitted = study.With(null, null, null, overcommit: "balloon+ksm", overcommitRatio: 3);
        DensityStudy back = DensityStudy.Parse(Sim.Experiments.Output.JsonText.Of(overcommitted.Resolved()), "study.json", "small");
        Assert.Equal((overcommitted.Overcommit, overcommitted.OvercommitRatio), (back.Overcommit, back.OvercommitRatio));
    }
}
