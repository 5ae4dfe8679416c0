using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Guest memory on the host: backed whole before the guest starts, or on first touch at the EPT violation, as KVM backs it.</summary>
public class GuestMemoryTests
{
    private const double Page = 4096;

    private static readonly WorkloadScenario Stream = new() { Workload = "stream", Profile = "nehalem-x5570", Preset = "type1", Size = 20_000, GuestMemoryBacking = "on_touch" };

    private static double Memory(WorkloadRunResult r, string statistic, string vm = "vm0") => r.Stat(vm + ".memory", statistic);

    private static long Exits(WorkloadRunResult r, ExitReason reason) => r.Exits.FirstOrDefault(e => e.Reason == reason).Count;

    [Fact]
    public void Backed_on_first_touch_the_host_holds_only_the_pages_the_guest_touched_and_each_took_one_EPT_violation()
    {
        WorkloadRunResult small = Stream.RunOnce(1), large = (Stream with { Size = 80_000 }).RunOnce(1);
        Assert.Equal(small.Run.Samples, Stream.RunOnce(1).Run.Samples); // byte-identical on a rerun

        // Three arrays of 8-byte elements: 60,000 more elements each are 351.6 more pages touched.
        double grown = (Memory(large, "backed_bytes") - Memory(small, "backed_bytes")) / Page;
        Assert.InRange(grown, 351, 353);
        foreach (WorkloadRunResult r in new[] { small, large })
        {
            Assert.Equal(Memory(r, "backed_bytes") / Page, Memory(r, "first_touches"));
            Assert.Equal(Memory(r, "first_touches"), Exits(r, ExitReason.EptViolation));
            Assert.True(Memory(r, "backed_bytes") < 4 << 20, $"{Memory(r, "backed_bytes"):N0} bytes backed of the guest's 512 MiB");
        }
        // Backed whole, the host holds all 512 MiB (and the EPT maps it all) and the guest takes no EPT violation.
        WorkloadRunResult whole = (Stream with { GuestMemoryBacking = "preallocated" }).RunOnce(1);
        Assert.Equal(512 << 20, Memory(whole, "backed_bytes"));
        Assert.Equal(0, Exits(whole, ExitReason.EptViolation));
        Assert.True(Memory(whole, "ept_table_bytes") > 40 * Memory(small, "ept_table_bytes"), "the EPT of a whole guest has a table per 2 MiB; of a touched few, a handful");
        Assert.True(small.Outcome.SimulatedSeconds > whole.Outcome.SimulatedSeconds, "the first touches cost the guest time");
    }

    [Fact]
    public void With_large_EPT_pages_a_first_touch_backs_two_MiB()
    {
        WorkloadRunResult r = (Stream with { LargeEptPages = true }).RunOnce(1);
        double touches = Memory(r, "first_touches");
        Assert.Equal(touches * (2 << 20), Memory(r, "backed_bytes"));
        Assert.InRange(touches, 1, 4); // the arrays' 469 KiB and the kernel's few pages lie in a few 2 MiB regions
        Assert.Equal(touches, Exits(r, ExitReason.EptViolation));
    }

    [Fact]
    public void Guests_backed_on_first_touch_may_overcommit_the_host_and_a_host_that_runs_out_says_which_guest()
    {
        // Four guests of 512 MiB on a host of 1,024 MiB: refused when reserved, run when backed on touch.
        WorkloadScenario four = Stream with { Guests = 4, HostMemoryMiB = 1024, HostCores = 1 };
        Assert.Contains("memory is reserved, not overcommitted", (four with { GuestMemoryBacking = "preallocated" }).FirstProblem(), StringComparison.Ordinal);
        Assert.Null(four.FirstProblem());
        WorkloadRunResult r = four.RunOnce(1);
        Assert.All(r.Guests, g => Assert.True(g.Finished));
        Assert.All(Enumerable.Range(0, 4), i => Assert.InRange(Memory(r, "backed_bytes", $"vm{i}"), 1, 4 << 20));

        // Guests that touch more than the host has: the run stops and names the guest.
        WorkloadScenario greedy = four with { Size = 8_000_000, GuestMemoryMiB = 512 }; // 183 MiB each
        var e = Assert.Throws<MemoryExhaustedException>(() => (greedy with { HostMemoryMiB = 600 }).RunOnce(1));
        Assert.Contains("The host ran out of memory when vm", e.Message, StringComparison.Ordinal);
        Assert.Contains("host_memory_mib", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("core2-merom", "type1")]
    [InlineData("nehalem-x5570", "paravirt")]
    [InlineData("core2-merom", "type2")]
    public void On_touch_backing_of_a_VM_without_EPT_is_refused(string profile, string preset)
    {
        string? problem = (Stream with { Profile = profile, Preset = preset }).FirstProblem();
        Assert.NotNull(problem);
        Assert.Contains("needs nested paging", problem, StringComparison.Ordinal);
        Assert.Contains("there is no guest memory backing 'lazy'", (Stream with { GuestMemoryBacking = "lazy" }).FirstProblem(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("native")]
    [InlineData("oslevel")]
    public void Natively_and_in_containers_there_is_no_VM_to_back_and_the_key_changes_nothing(string preset)
    {
        WorkloadScenario s = Stream with { Workload = "stream-linux", Preset = preset };
        Assert.Null(s.FirstProblem()); // a study's base may hold it for its VM presets
        Assert.Equal(s.RunOnce(1).Run.Samples, (s with { GuestMemoryBacking = "preallocated" }).RunOnce(1).Run.Samples);
    }
}
