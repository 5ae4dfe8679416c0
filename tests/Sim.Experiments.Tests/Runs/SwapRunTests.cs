using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Swap in whole runs: a container at its memory limit that swaps instead of being OOM-killed, a VM's kernel swapping to its virtual disk, and the report's swap table.</summary>
public class SwapRunTests
{
    /// <summary>lmbench's lat_pagefault touching 31 MiB of fresh pages in a container limited to 16 MiB.</summary>
    private static readonly WorkloadScenario Faults = new()
    {
        Workload = "lat-pagefault", Size = 8_000, Profile = "nehalem-x5570", Preset = "oslevel", ContainerMemoryMiB = 16, SwapMiB = 128,
    };

    [Fact]
    public void A_container_at_its_limit_swaps_and_its_faults_cost_the_disk_while_one_that_may_not_swap_is_OOM_killed()
    {
        WorkloadRunResult swapping = Faults.RunOnce(1);
        WorkloadRunResult killed = (Faults with { ContainerSwap = false }).RunOnce(1);
        WorkloadRunResult roomy = (Faults with { ContainerMemoryMiB = 64 }).RunOnce(1);

        Assert.Equal(0, swapping.Stat("host.kernel.container", "oom_kills"));
        Assert.True(swapping.Stat("host.kernel.swap", "pswpout") >= (31 - 16) * 256, "what did not fit went to swap");
        Assert.InRange(swapping.Stat("ct0.memory", "peak_charged_bytes"), 15 << 20, 16 << 20); // the limit held, and was reached
        Assert.Equal(1, killed.Stat("host.kernel.container", "oom_kills"));
        Assert.Equal(0, killed.Stat("host.kernel.swap", "pswpout"));
        Assert.Equal(0, roomy.Stat("host.kernel.swap", "pswpout")); // a kernel with swap and room to spare never uses it

        // A fault that must first send a page to an X25-E (3,300 random writes a second) costs the write's share, where one with room costs microseconds.
        double perFault = swapping.FiguresOfMerit[0].Value, unhindered = roomy.FiguresOfMerit[0].Value;
        Assert.True(perFault > 50 * unhindered, $"{perFault:F1} us per fault swapping against {unhindered:F2} us with room");
        Assert.Equal(swapping.Run.Samples, Faults.RunOnce(1).Run.Samples); // byte-identical on a rerun
        Assert.Contains("swap:", WorkloadRunReport.ToText([swapping], "lat-pagefault"), StringComparison.Ordinal);
        Assert.Contains("| pages to swap |", WorkloadRunReport.ToMarkdown([swapping], "lat-pagefault", plots: false), StringComparison.Ordinal);
    }

    [Fact]
    public void A_guest_kernel_swaps_to_its_virtual_disk_when_its_processes_outgrow_its_memory()
    {
        WorkloadScenario guest = new() { Workload = "lat-pagefault", Size = 20_000, Profile = "nehalem-x5570", Preset = "type1", GuestMemoryMiB = 64, SwapMiB = 128 };
        WorkloadRunResult r = guest.RunOnce(1);

        Assert.True(r.Stat("vm0.kernel.swap", "pswpout") > 0, "78 MiB of pages in a 64 MiB guest");
        Assert.True(r.Stat("vm0.disk0", "sectors_written") >= 8 * (r.Stat("vm0.kernel.swap", "pswpout") - 128), $"each page written through the guest's disk (but those still in flight at the end, at most kswapd's 128): {r.Stat("vm0.disk0", "sectors_written")} sectors for {r.Stat("vm0.kernel.swap", "pswpout")} pages");
        Assert.False(double.IsNaN(r.FiguresOfMerit[0].Value));
    }

    [Fact]
    public void A_balloon_squeezing_a_guest_below_what_its_process_holds_makes_its_kernel_swap_where_without_swap_it_runs_out()
    {
        // 47 MiB of fresh pages in a 64 MiB KVM guest whose balloon takes 40 MiB 20 ms in, when the process holds about 23 MiB.
        WorkloadScenario squeezed = new()
        {
            Workload = "lat-pagefault", Size = 12_000, Profile = "nehalem-x5570", Preset = "type1", GuestMemoryMiB = 64, GuestMemoryBacking = "on_touch",
            BalloonMiB = 40, BalloonAtMs = 20, SwapMiB = 128,
        };
        WorkloadRunResult r = squeezed.RunOnce(1);

        Assert.True(r.Stat("vm0.kernel.swap", "pswpout") > 0, "the guest sent its process's pages to swap");
        Assert.True(r.Stat("vm0.kernel.balloon", "allocation_failures") > 0, "the balloon ran out of puff while the writes were in flight");
        Assert.True(r.Stat("vm0.balloon", "actual_pages") > 20 * 256, $"and tried again after 200 ms: {r.Stat("vm0.balloon", "actual_pages")} pages in the balloon");
        Assert.False(double.IsNaN(r.FiguresOfMerit[0].Value));
        var error = Assert.Throws<MemoryExhaustedException>(() => (squeezed with { SwapMiB = 0 }).RunOnce(1));
        Assert.Contains("swap_mib", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_balloon_asked_at_boot_for_more_than_is_free_goes_on_in_the_run_by_swapping_the_idle_daemons_memory()
    {
        // A 128 MiB guest whose boot left 48 MiB of idle daemons' memory, asked at boot for a 100 MiB balloon, idling for a second.
        WorkloadScenario idle = new()
        {
            Workload = "idle", Size = 1_000, Profile = "nehalem-x5570", Preset = "type1", GuestMemoryMiB = 128, GuestMemoryBacking = "on_touch",
            GuestBootAnonMiB = 48, BalloonMiB = 100, BalloonAtBoot = true, SwapMiB = 128,
        };
        WorkloadRunResult swapping = idle.RunOnce(1), stuck = (idle with { SwapMiB = 0 }).RunOnce(1);

        Assert.Equal(100 * 256, swapping.Stat("vm0.balloon", "target_pages"));
        Assert.True(swapping.Stat("vm0.kernel.swap", "kswapd_runs") > 0, "kswapd reclaimed below the low watermark the boot's balloon left");
        Assert.Equal(swapping.Stat("vm0.kernel.swap", "pswpout"), swapping.Stat("vm0.kernel.swap", "slots_used")); // daemon pages: none read back
        Assert.True(swapping.Stat("vm0.balloon", "actual_pages") > stuck.Stat("vm0.balloon", "actual_pages"), "the balloon took the pages swap freed, on its retries");
        Assert.True(swapping.Stat("vm0.memory", "backed_bytes") < stuck.Stat("vm0.memory", "backed_bytes"), "and the host freed their frames");
    }

    [Fact]
    public void Swap_for_a_workload_of_the_minimal_kernel_is_refused_with_the_Linux_form_named()
    {
        string? problem = (Faults with { Workload = "gups", Preset = "native", ContainerMemoryMiB = null }).FirstProblem();
        Assert.NotNull(problem);
        Assert.Contains("swap is the Linux-like kernel's", problem, StringComparison.Ordinal);
        Assert.Contains("gups-linux", problem, StringComparison.Ordinal);
    }
}
