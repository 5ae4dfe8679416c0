using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// The host swapping guest memory: a KVM-like host whose guests touch more than its frames hold
/// sends their coldest pages to its swap, a guest touching one waits for the read, and the
/// host's books balance (every page a guest touched is backed or in swap).
/// </summary>
public class HostSwapTests
{
    /// <summary>Two guests each touching 31 MiB of fresh pages over their boots, on a host that leaves them 44 MiB of frames.</summary>
    private static readonly WorkloadScenario Crowded = new()
    {
        Workload = "lat-pagefault", Size = 8_000, Profile = "nehalem-x5570", Preset = "type1", Guests = 2, GuestMemoryMiB = 128, GuestMemoryBacking = "on_touch",
        HostMemoryMiB = 300, HostSwapMiB = 256,
    };

    private static double Swap(WorkloadRunResult r, string statistic) => r.Stat("host.swap", statistic);

    [Fact]
    public void A_host_short_of_frames_sends_guest_pages_to_its_swap_and_every_touched_page_is_backed_or_there()
    {
        WorkloadRunResult r = Crowded.RunOnce(1);

        Assert.True(Swap(r, "pswpout") > 4_000, $"{Swap(r, "pswpout")} pages written: 70 MiB touched over 44 MiB of frames");
        Assert.True(Swap(r, "write_requests") < Swap(r, "pswpout") / 8, "a pass's writes to consecutive slots go out as one request");
        double swapped = 0;
        foreach (string vm in new[] { "vm0", "vm1" })
        {
            double backed = r.Stat(vm + ".memory", "backed_bytes"), inSwap = r.Stat(vm + ".memory", "swapped_bytes");
            Assert.Equal(r.Stat(vm + ".memory", "first_touches") * 4096, backed + inSwap); // nothing lost, nothing counted twice
            swapped += inSwap;
        }
        Assert.Equal(Swap(r, "slots_used") * 4096, swapped);
        Assert.True(Swap(r, "free_frames") >= Swap(r, "min_free_frames") / 2, "guest faults never took the reserve below the min watermark; only EPT tables may");
        Assert.True(Swap(r, "entries_aged") > 0, "reclaim zapped EPT entries to see which pages the guests touch");
        Assert.True(Swap(r, "kswapd_runs") > 0 && Swap(r, "kswapd_cycles") > 0, "kswapd reclaimed on a host CPU below the low watermark");
        Assert.True(Swap(r, "writeback_waits") < Swap(r, "write_requests"), "so that most faults found a frame without waiting for a write");
        Assert.False(r.Guests.Any(g => double.IsNaN(g.FiguresOfMerit[0].Value)), "every fault got its page");
        Assert.Equal(r.Run.Samples, Crowded.RunOnce(1).Run.Samples); // byte-identical on a rerun
    }

    [Fact]
    public void A_guest_touching_a_page_in_swap_waits_for_the_disk_and_its_instruction_runs_again()
    {
        WorkloadRunResult r = Crowded.RunOnce(1);

        double majors = Swap(r, "major_faults");
        Assert.True(majors > 0, "some pages the guests' kernels touch again were in swap");
        Assert.Equal(majors, r.Stat("vm0.memory", "major_faults") + r.Stat("vm1.memory", "major_faults"));
        Assert.Equal(majors, Swap(r, "pswpin") + 0); // each read back once, none in flight at the end
        // The X25-E's 75 us read latency and 16 us of transfer, behind whatever the disk was writing.
        Assert.True(Swap(r, "major_fault_latency::min") >= 91_000, $"{Swap(r, "major_fault_latency::min")} ns");
        Assert.True(Swap(r, "pswpin") < Swap(r, "pswpout") / 10, "reclaim took pages the guests did not touch again (the LRU's inactive tail)");
        string text = WorkloadRunReport.ToText([r], "lat-pagefault");
        Assert.Contains(Swapping.HostGuestMemory, text, StringComparison.Ordinal);
        Assert.Contains("MiB in the host's swap at the end", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Idle_memory_the_guests_booted_with_goes_to_swap_first_the_earliest_guests_first_and_is_not_read_back()
    {
        // Four 64 MiB guests idling, each booted with 24 MiB of daemons' memory that nothing touches again, on a host with 64 MiB of frames for them.
        WorkloadScenario idle = new()
        {
            Workload = "idle", Size = 200, Profile = "nehalem-x5570", Preset = "type1", Guests = 4, GuestMemoryMiB = 64, GuestMemoryBacking = "on_touch",
            GuestBootAnonMiB = 24, HostMemoryMiB = 320, HostSwapMiB = 256,
        };
        WorkloadRunResult r = idle.RunOnce(1);

        Assert.True(Swap(r, "pswpout") > 0);
        Assert.Equal(0, Swap(r, "major_faults")); // only the daemons' pages went, and nothing touched them
        double first = r.Stat("vm0.memory", "swapped_bytes"), last = r.Stat("vm3.memory", "swapped_bytes");
        Assert.True(first > last, $"vm0 {first / (1 << 20):F1} MiB in swap, vm3 {last / (1 << 20):F1} MiB: the longest idle go first");
        Assert.True(first <= 24 << 20, "and no more than its daemons' memory");
    }

    [Fact]
    public void Without_host_swap_the_same_host_runs_out_of_memory_and_says_what_to_give_it()
    {
        var error = Assert.Throws<MemoryExhaustedException>(() => (Crowded with { HostSwapMiB = 0 }).RunOnce(1));
        Assert.Contains("host_swap_mib", error.Message, StringComparison.Ordinal);
        Assert.Contains(Models.Virtualization.VirtualMachine.HostOutOfMemory, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_with_room_never_swaps()
    {
        WorkloadRunResult r = (Crowded with { HostMemoryMiB = 512 }).RunOnce(1);
        Assert.Equal(0, Swap(r, "pswpout"));
        Assert.Equal(0, Swap(r, "pages_scanned"));
        Assert.Equal(0, r.Stat("vm0.memory", "swapped_bytes"));
    }

    [Theory]
    [InlineData("preset: type1\nguest_memory_backing: preallocated\nhost_swap_mib: 64", "host_swap_mib")]
    [InlineData("preset: type1\nguest_memory_backing: on_touch\nlarge_ept_pages: true\nhost_swap_mib: 64", "large_ept_pages")]
    [InlineData("preset: paravirt\nhost_swap_mib: 64", "host_swap_mib")]
    [InlineData("preset: type1\nguest_memory_backing: on_touch\nhost_swap_mib: -1", "0 (none) to 32768")]
    [InlineData("preset: type1\nguest_memory_backing: on_touch\nhost_swap_mib: 40000", "0 (none) to 32768")]
    public void A_host_swap_that_cannot_be_is_refused_with_its_key(string rest, string said)
    {
        var error = Assert.Throws<ScenarioException>(() => ScenarioFile.Parse($"workload: lat-pagefault\nprofile: nehalem-x5570\n{rest}\n", "host.yaml"));
        Assert.StartsWith("host.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains(said, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Natively_and_in_containers_host_swap_changes_nothing_so_a_study_base_may_hold_it()
    {
        Assert.Null(new WorkloadScenario { Workload = "lat-pagefault", Preset = "native", HostSwapMiB = 64 }.FirstProblem());
        Assert.Null(new WorkloadScenario { Workload = "lat-pagefault", Preset = "oslevel", HostSwapMiB = 64 }.FirstProblem());
    }
}
