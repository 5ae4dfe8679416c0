using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Huge pages in both dimensions: the guest kernel's transparent huge pages and the host's 2 MiB EPT pages, on RandomAccess (GUPS).</summary>
public class HugePageRunTests
{
    private static readonly WorkloadScenario Gups = new() { Workload = "gups-linux", Profile = "nehalem-x5570", Preset = "type1", Size = 20_000 };

    private static (double Walks, double References) Walks(WorkloadRunResult r) => (r.Stat("host.cpu0.tlb", "walks"), r.Stat("host.cpu0.tlb", "walk_references"));

    [Fact]
    public void Only_huge_pages_in_both_dimensions_take_the_two_dimensional_walks_off_random_updates()
    {
        (double smallWalks, double smallReferences) = Walks(Gups.RunOnce(1));
        (double guestWalks, _) = Walks((Gups with { TransparentHugePages = "always" }).RunOnce(1));
        (double hostWalks, _) = Walks((Gups with { LargeEptPages = true }).RunOnce(1));
        WorkloadRunResult both = (Gups with { TransparentHugePages = "always", LargeEptPages = true }).RunOnce(1);
        (double bothWalks, double bothReferences) = Walks(both);

        // A TLB entry maps the smaller of the guest's page and the EPT's: one dimension's huge pages alone leave 4 KiB entries.
        Assert.True(guestWalks > 0.9 * smallWalks, $"{guestWalks} walks with guest THP over 4 KiB EPT pages against {smallWalks}");
        Assert.True(hostWalks > 0.9 * smallWalks, $"{hostWalks} walks with 2 MiB EPT pages under a guest of 4 KiB pages against {smallWalks}");
        Assert.True(bothWalks * 100 < smallWalks, $"{bothWalks} walks with both against {smallWalks}");
        Assert.True(bothReferences * 100 < smallReferences, $"{bothReferences} walk references with both against {smallReferences}");
        Assert.Equal(both.Run.Samples, (Gups with { TransparentHugePages = "always", LargeEptPages = true }).RunOnce(1).Run.Samples); // byte-identical on a rerun
    }

    [Fact]
    public void Natively_THP_serves_the_table_with_huge_pages_started_whole()
    {
        WorkloadRunResult r = (Gups with { Preset = "native", TransparentHugePages = "always" }).RunOnce(1);
        (double walks, _) = Walks(r);
        Assert.True(walks < 1_000, $"{walks} walks: the 64 MiB table's 32 huge pages fit Nehalem's 32-entry 2 MiB DTLB");
        Assert.Equal(0, r.Stat("host.kernel.thp", "split_pmd"));
    }

    [Fact]
    public void A_balloon_taking_pages_of_a_region_the_host_backs_whole_splits_it_and_its_other_pages_come_back_one_by_one()
    {
        // A guest of 64 MiB reading 36 MiB of a file; its balloon takes 40 MiB part-way. The host backs its memory on touch with 2 MiB pages.
        WorkloadScenario ballooned = new()
        {
            Workload = "lat-file-read", Size = 9_000, Profile = "nehalem-x5570", Preset = "type1", GuestMemoryMiB = 64, GuestMemoryBacking = "on_touch",
            LargeEptPages = true, BalloonMiB = 40, BalloonAtMs = 800,
        };
        WorkloadRunResult r = ballooned.RunOnce(1);
        Assert.Equal(r.Run.Samples, ballooned.RunOnce(1).Run.Samples); // byte-identical on a rerun

        double splits = r.Stat("vm0.memory", "huge_splits"), discarded = r.Stat("vm0.memory", "discarded_pages");
        Assert.True(splits > 0, "the balloon's pages lay in regions backed whole");
        Assert.True(splits <= discarded, "each split region gave at least one page");
        Assert.True(r.Stat("vm0.memory", "refaults") > 0, "pages of split regions the guest touched again were mapped again, 4 KiB each");
        // The host's accounting: 2 MiB per first touch of a whole region, 4 KiB per page touched afresh after a split, less what was given back.
        Assert.True(r.Stat("vm0.memory", "backed_bytes") <= (64 - 40) << 20, $"{r.Stat("vm0.memory", "backed_bytes"):N0} bytes backed");
        Assert.Equal(40 * 256, r.Stat("vm0.balloon", "actual_pages"));
        Assert.False(double.IsNaN(r.FiguresOfMerit[0].Value)); // every read returned its page
    }

    [Fact]
    public void Page_merging_splits_the_regions_backed_whole_whose_pages_it_merges()
    {
        // Two guests of one image reading the same file; ksmd scans 1,000 pages a millisecond.
        WorkloadScenario readers = new()
        {
            Workload = "lat-file-read", Size = 500, Profile = "nehalem-x5570", Preset = "type1", Guests = 2, GuestMemoryMiB = 64, GuestMemoryBacking = "on_touch",
            KsmPagesToScan = 1000, KsmSleepMs = 1,
        };
        WorkloadRunResult small = readers.RunOnce(1), huge = (readers with { LargeEptPages = true }).RunOnce(1);
        double merges = huge.Stat("host.ksm", "merges");
        Assert.True(merges > 400, $"{merges} merges: the same pages merge whether the host backed them in 2 MiB or 4 KiB pages");
        Assert.True(huge.Stat("vm0.memory", "huge_splits") + huge.Stat("vm1.memory", "huge_splits") > 0, "merging a page of a region backed whole split it");
        Assert.Equal(0, small.Stat("vm0.memory", "first_touches") - small.Stat("vm0.memory", "backed_bytes") / 4096); // 4 KiB backing: no split counters needed
        Assert.DoesNotContain(small.Run.Samples, s => s.Statistic == "huge_splits");
        Assert.True(huge.Stat("vm0.memory", "backed_bytes") > small.Stat("vm0.memory", "backed_bytes"), "2 MiB first touches back pages the guest never touched");
    }

    [Theory]
    [InlineData("sometimes", "there is no transparent_hugepages mode 'sometimes'; the modes are: never, always")]
    public void An_unknown_THP_mode_is_refused(string mode, string message) =>
        Assert.Equal(message, (Gups with { TransparentHugePages = mode }).Problem("transparent_hugepages"));

    [Fact]
    public void THP_for_a_workload_of_the_minimal_kernel_is_refused_with_the_Linux_form_named()
    {
        string? problem = (Gups with { Workload = "gups", TransparentHugePages = "always" }).FirstProblem();
        Assert.NotNull(problem);
        Assert.Contains("minimal test kernel", problem, StringComparison.Ordinal);
        Assert.Contains("gups-linux", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("core2-merom", "type1")]
    [InlineData("nehalem-x5570", "paravirt")]
    public void Large_EPT_pages_without_EPT_are_refused(string profile, string preset)
    {
        string? problem = (Gups with { Profile = profile, Preset = preset, LargeEptPages = true }).FirstProblem();
        Assert.NotNull(problem);
        Assert.StartsWith("large_ept_pages maps guest memory with 2 MiB EPT pages", problem, StringComparison.Ordinal);
    }
}
