using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>A kernel with neither container nor balloon whose page cache fills its memory reclaims and goes on.</summary>
public class DirectReclaimTests
{
    [Fact]
    public void Reading_a_file_larger_than_memory_recycles_the_page_cache_to_the_end()
    {
        // 17,000 pages (66 MiB) through a 64 MiB machine of two NUMA nodes: the first node's
        // never-used memory, where contiguous runs come from, runs out long before the reading ends.
        WorkloadScenario reader = new() { Workload = "lat-file-read", Size = 17_000, Profile = "nehalem-x5570", Preset = "native", GuestMemoryMiB = 64 };
        WorkloadRunResult r = reader.RunOnce(1);
        Assert.False(double.IsNaN(r.FiguresOfMerit[0].Value)); // every read returned its page
        Assert.Equal(r.Run.Samples, reader.RunOnce(1).Run.Samples);
        Assert.DoesNotContain(r.Run.Samples, s => s.Path.EndsWith(".kernel.reclaim", StringComparison.Ordinal)); // counted only where registered at build time
    }
}
