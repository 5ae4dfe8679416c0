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
