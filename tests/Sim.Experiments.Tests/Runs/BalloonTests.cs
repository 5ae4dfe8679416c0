using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>A memory balloon (virtio-balloon) in a VM whose memory the host backs on first touch: the guest gives pages back, the host frees their frames.</summary>
public class BalloonTests
{
    private const double Page = 4096;

    // A guest of 64 MiB reading 36 MiB of a file through its page cache; the host asks its balloon
    // for 40 MiB part-way, when the guest's free memory is smaller than that.
    private static readonly WorkloadScenario Reader = new()
    {
        Workload = "lat-file-read", Size = 9_000, Profile = "nehalem-x5570", Preset = "type1", GuestMemoryMiB = 64, GuestMemoryBacking = "on_touch",
    };

    private static readonly WorkloadScenario Ballooned = Reader with { BalloonMiB = 40, BalloonAtMs = 800 };

    [Fact]
    public void Inflating_takes_the_free_pages_then_the_page_cache_and_the_host_frees_every_backed_frame_it_is_given()
    {
        WorkloadRunResult plain = Reader.RunOnce(1), ballooned = Ballooned.RunOnce(1);
        Assert.Equal(ballooned.Run.Samples, Ballooned.RunOnce(1).Run.Samples); // byte-identical on a rerun

        Assert.Equal(40 * 256, ballooned.Stat("vm0.balloon", "actual_pages")); // the driver reached the target and said so
        Assert.Equal(40 * 256, ballooned.Stat("vm0.balloon", "inflated_pages"));
        Assert.Equal(0, ballooned.Stat("vm0.kernel.balloon", "allocation_failures"));
        // Free memory did not hold 40 MiB: the rest came from the page cache, which reclaim freed.
        Assert.True(ballooned.Stat("vm0.kernel.reclaim", "freed") > 0);
        double discarded = ballooned.Stat("vm0.memory", "discarded_pages");
        Assert.True(discarded > 0, "pages the guest had touched were given back and freed on the host");
        Assert.True(discarded < 40 * 256, "never-touched pages had no host frame to free");
        // The host's accounting: what it backs is what was touched less what was given back.
        Assert.Equal((ballooned.Stat("vm0.memory", "first_touches") - discarded) * Page, ballooned.Stat("vm0.memory", "backed_bytes"));
        // Once inflated, the balloon caps what the host backs at the guest's memory less the balloon (the reader's 35 MiB would not fit).
        Assert.True(plain.Stat("vm0.memory", "backed_bytes") > 32 << 20);
        Assert.True(ballooned.Stat("vm0.memory", "backed_bytes") <= (64 - 40) << 20, $"{ballooned.Stat("vm0.memory", "backed_bytes"):N0} bytes backed");
        // The guest kept running on a smaller page cache: every read returned its page.
        Assert.False(double.IsNaN(ballooned.FiguresOfMerit[0].Value));
        Assert.True(ballooned.Exits.Single(e => e.Reason == Sim.Models.Virtualization.ExitReason.EptViolation).Count > plain.Exits.Single(e => e.Reason == Sim.Models.Virtualization.ExitReason.EptViolation).Count - 9_000,
            "the balloon's kicks and configuration accesses are exits of their own");
    }

    [Fact]
    public void A_balloon_asked_for_less_gives_pages_back_to_the_guest()
    {
        // Idle guest: inflate to 32 MiB at once, then a second request (the model's API) for 8 MiB deflates.
        WorkloadScenario idle = new() { Workload = "idle", Size = 200, Profile = "nehalem-x5570", Preset = "type1", GuestMemoryMiB = 64, GuestMemoryBacking = "on_touch", BalloonMiB = 32 };
        WorkloadRun.PreparedRun run = idle.Prepare(1);
        Sim.Models.Devices.VirtioBalloon balloon = Assert.Single(run.Balloons);
        run.At(Sim.Engine.Time.Tick.FromMilliseconds(100), "deflate", () => balloon.Request(8 * 256));
        WorkloadRunResult r = run.Execute();
        Assert.Equal(8 * 256, r.Stat("vm0.balloon", "actual_pages"));
        Assert.Equal(32 * 256, r.Stat("vm0.balloon", "inflated_pages"));
        Assert.Equal(24 * 256, r.Stat("vm0.balloon", "deflated_pages"));
    }

    [Fact]
    public void A_balloon_set_at_boot_starts_the_run_inflated_and_its_inflating_costs_the_run_nothing()
    {
        // The reader's page cache fills its memory before the host asks at 800 ms; a balloon set at boot holds its 40 MiB from the start.
        WorkloadScenario atBoot = Ballooned with { BalloonAtBoot = true };
        WorkloadRunResult r = atBoot.RunOnce(1), late = Ballooned.RunOnce(1);
        Assert.Equal(40 * 256, r.Stat("vm0.balloon", "actual_pages"));
        Assert.Equal(40 * 256, r.Stat("vm0.balloon", "inflated_pages"));
        Assert.Equal(0, r.Stat("vm0.memory", "discarded_pages")); // at boot the balloon took free pages the guest had never touched: nothing backed to give back
        Assert.True(r.Stat("vm0.memory", "backed_bytes") <= (64 - 40) << 20, "the reader's page cache never grew past what the balloon left");
        Assert.True(r.Exits.Sum(e => e.Count) < late.Exits.Sum(e => e.Count), "no inflate queue, kick or configuration exits in the run");
        Assert.Equal("boot", atBoot.Resolved()["balloon_at_ms"]);
    }
}
