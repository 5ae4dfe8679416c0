using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Page sharing (KSM) on a VT-x host whose guests' memory is backed on first touch: equal pages merged, different ones never, sharing broken when a page changes.</summary>
public class PageMergingTests
{
    // Guests of one image reading the same 2 MiB file through their page caches; ksmd scans 1,000 pages a millisecond.
    private static readonly WorkloadScenario Readers = new()
    {
        Workload = "lat-file-read", Size = 500, Profile = "nehalem-x5570", Preset = "type1", Guests = 2, GuestMemoryMiB = 64, GuestMemoryBacking = "on_touch",
        KsmPagesToScan = 1000, KsmSleepMs = 1,
    };

    private static double Ksm(WorkloadRunResult r, string statistic) => r.Stat("host.ksm", statistic);

    [Fact]
    public void Two_guests_of_one_image_share_each_page_of_the_file_and_of_the_kernel_once()
    {
        WorkloadRunResult r = Readers.RunOnce(1);
        Assert.Equal(r.Run.Samples, Readers.RunOnce(1).Run.Samples); // byte-identical on a rerun
        double shared = Ksm(r, "pages_shared");
        Assert.True(shared > 400, $"{shared} shared pages of the file's 500 and the kernel's code"); // the last pages read are not scanned twice before the end
        Assert.Equal(shared, Ksm(r, "pages_sharing")); // two guests: each KSM page saves one frame
        Assert.Equal(Ksm(r, "pages_shared") + Ksm(r, "pages_sharing"), Ksm(r, "merges")); // nothing broke a sharing
        Assert.Equal(0, Ksm(r, "cow_breaks"));
        Assert.True(Ksm(r, "scan_cycles") > 1_000 * Ksm(r, "pages_scanned") / 10, "scanning costs the host CPU");
        PageMerging summary = PageMerging.Of(r.Run.Samples)!;
        Assert.Equal(shared * 4096, summary.SavedBytes);
        // The guests' own accounting is unchanged: each still has its pages backed, some of them by shared frames.
        Assert.Equal(r.Stat("vm0.memory", "first_touches") * 4096, r.Stat("vm0.memory", "backed_bytes"));
    }

    [Fact]
    public void Ksmd_runs_on_a_host_CPU_no_virtual_CPU_is_placed_on()
    {
        // Three CPUs for two guests of one virtual CPU each: ksmd's CPU, the last, idles in the host's loop between batches.
        WorkloadRunResult r = (Readers with { HostCores = 3 }).RunOnce(1);
        Assert.True(Ksm(r, "pages_scanned") > 1_000, $"{Ksm(r, "pages_scanned")} pages scanned");
        Assert.True(Ksm(r, "pages_shared") > 200, $"{Ksm(r, "pages_shared")} pages shared"); // the guests run side by side: a shorter run, fewer batches than on one CPU
        Assert.True(r.HostCpuUtilization[2] > 0, "ksmd's batches ran on CPU 2");
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void A_guest_alone_has_no_two_pages_alike_and_merges_nothing()
    {
        WorkloadRunResult r = (Readers with { Guests = 1 }).RunOnce(1);
        Assert.True(Ksm(r, "pages_scanned") > 1_000);
        Assert.True(Ksm(r, "full_scans") > 1);
        Assert.Equal(0, Ksm(r, "merges"));
        Assert.Equal(0, Ksm(r, "pages_shared"));
        Assert.Null(PageMerging.Of((Readers with { KsmPagesToScan = null }).RunOnce(1).Run.Samples)); // off: no statistics at all
    }

    [Fact]
    public void Pages_a_guest_reuses_for_other_data_or_gives_to_its_balloon_leave_their_sharing()
    {
        // The balloon takes most of each guest's memory part-way: reclaim frees merged page-cache
        // pages, some go to the balloon (their mapping dropped), the rest are read into again with
        // other pages of the file (their sharing broken before the new data lands).
        WorkloadScenario pressed = Readers with { Size = 6000, BalloonMiB = 56, BalloonAtMs = 550 };
        WorkloadRunResult r = pressed.RunOnce(1);
        Assert.True(Ksm(r, "cow_breaks") > 0);
        Assert.True(Ksm(r, "unmapped") > 0);
        // Every merge is still a guest page on a KSM page unless a break or the balloon took it off.
        Assert.Equal(Ksm(r, "merges") - Ksm(r, "cow_breaks") - Ksm(r, "unmapped"), Ksm(r, "pages_shared") + Ksm(r, "pages_sharing"));
        Assert.False(double.IsNaN(r.FiguresOfMerit[0].Value)); // every read returned its page
    }
}
