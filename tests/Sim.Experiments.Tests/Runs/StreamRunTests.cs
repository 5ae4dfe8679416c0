using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Workloads.Synthetic;

namespace Sim.Experiments.Tests.Runs;

public class StreamRunTests
{
    private static double Bandwidth(HardwareProfile profile) =>
        WorkloadRun.Run(profile, new StreamTriad(), 200_000, seed: 1).FiguresOfMerit.Single(m => m.Name == "bandwidth").Value;

    [Fact]
    public void The_stream_prefetcher_multiplies_the_triads_bandwidth_and_the_bus_bounds_it()
    {
        HardwareProfile p4 = HardwareProfiles.Pentium4672;
        double with = Bandwidth(p4);
        double without = Bandwidth(p4 with { Prefetcher = null });
        Assert.True(with > 2 * without, $"{with:F0} MB/s with the prefetcher, {without:F0} without");
        // With write-allocate 32 bytes cross the bus per element (b, c, a's read for ownership and its
        // write-back) against STREAM's 24; the last lines' write-backs fall after the run, hence 3%.
        Assert.InRange(with * 32 / 24, 0.8 * p4.DramBytesPerSecond / 1e6, 1.03 * p4.DramBytesPerSecond / 1e6);
    }
}
