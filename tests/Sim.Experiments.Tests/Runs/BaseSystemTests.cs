using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// A VM's base system (guest_boot_cache_mib, guest_boot_anon_mib): what its boot leaves in its
/// memory is backed on the host before the run, merged across guests of one image where the host
/// merges pages, and reclaimable by the guest where it is page cache.
/// </summary>
public class BaseSystemTests
{
    private const double MiB = 1 << 20;

    // A short file-reading guest of 64 MiB whose boot left 16 MiB of its image's files cached and 8 MiB of daemons' memory.
    private static readonly WorkloadScenario Booted = new()
    {
        Workload = "lat-file-read", Size = 200, Profile = "nehalem-x5570", Preset = "type1", GuestMemoryMiB = 64, GuestMemoryBacking = "on_touch",
        GuestBootCacheMiB = 16, GuestBootAnonMiB = 8,
    };

    [Fact]
    public void The_host_backs_what_the_boot_wrote_before_the_run_and_nothing_of_a_bare_kernel()
    {
        WorkloadRunResult booted = Booted.RunOnce(1), bare = (Booted with { GuestBootCacheMiB = 0, GuestBootAnonMiB = 0 }).RunOnce(1);
        Assert.Equal(booted.Run.Samples, Booted.RunOnce(1).Run.Samples); // byte-identical on a rerun
        double grown = booted.Stat("vm0.memory", "backed_bytes") - bare.Stat("vm0.memory", "backed_bytes");
        Assert.Equal(24 * MiB, grown); // every page of both parts, once
        Assert.Equal(24 * 256, booted.Stat("vm0.memory", "first_touches") - bare.Stat("vm0.memory", "first_touches"));
        // Reserved whole, the VM's memory is backed whatever its boot wrote.
        WorkloadScenario reserved = Booted with { GuestMemoryBacking = "preallocated" };
        Assert.Equal(64 * MiB, reserved.RunOnce(1).Stat("vm0.memory", "backed_bytes"));
    }

    [Fact]
    public void Guests_of_one_image_share_their_boot_cache_from_the_start_but_never_their_daemons_memory()
    {
        // ksmd sleeps past the run's end: only the merging of the settled host is seen.
        WorkloadScenario three = Booted with { Guests = 3, KsmPagesToScan = 100, KsmSleepMs = 60_000 };
        WorkloadRunResult r = three.RunOnce(1);
        Assert.Equal(0, r.Stat("host.ksm", "pages_scanned"));
        // One KSM page per page of the image's files, and per page of the guest kernel's code its boot laid out; no daemon page merged.
        double shared = r.Stat("host.ksm", "pages_shared");
        Assert.InRange(shared, 16 * 256, (16 * 256) + 256);
        Assert.Equal(2 * shared, r.Stat("host.ksm", "pages_sharing")); // the second and third guests' copies saved
        Assert.Equal(3 * shared, r.Stat("host.ksm", "merges"));
        PageMerging summary = PageMerging.Of(r.Run.Samples)!;
        Assert.Equal(2 * shared * 4096, summary.SavedBytes);
    }

    [Fact]
    public void A_balloon_takes_the_boot_cache_back_and_leaves_the_daemons_memory()
    {
        // 48 of 64 MiB asked for: more than the free memory, so reclaim drops the image's cached pages.
        WorkloadRunResult r = (Booted with { BalloonMiB = 48 }).RunOnce(1);
        Assert.Equal(48 * 256, r.Stat("vm0.balloon", "actual_pages"));
        Assert.True(r.Stat("vm0.kernel.reclaim", "freed") > 8 * 256, "the boot's page cache was reclaimed");
        double backed = r.Stat("vm0.memory", "backed_bytes");
        Assert.True(backed <= 16 * MiB, $"{backed / MiB:F1} MiB backed under a 48 MiB balloon");
        Assert.True(backed >= 8 * MiB, "the daemons' anonymous memory has no swap to go to");
    }

    [Fact]
    public void A_host_that_cannot_hold_the_guests_boots_even_overcommitted_says_so_before_running()
    {
        // Ten boots of 24 MiB need 240 MiB beside the hypervisor's 256; the host has 384.
        WorkloadScenario crowded = Booted with { Guests = 10, HostMemoryMiB = 384 };
        string problem = crowded.FirstProblem()!;
        Assert.Contains("cannot boot even with memory overcommitted", problem, StringComparison.Ordinal);
        Assert.Contains("merging pages (ksm_pages_to_scan)", problem, StringComparison.Ordinal);
        // With the image's pages merged the boots need 10 x 8 + 16 = 96 MiB: they fit.
        Assert.Null((crowded with { KsmPagesToScan = 100 }).FirstProblem());
    }
}
