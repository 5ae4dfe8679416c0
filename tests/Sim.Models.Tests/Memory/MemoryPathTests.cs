using Sim.Engine.Statistics;
using Sim.Models.Hardware;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Memory;

public class MemoryPathTests
{
    [Fact]
    public void Latency_is_that_of_the_level_holding_the_line()
    {
        HardwareProfile p = HardwareProfiles.NehalemX5570;
        var stats = new StatRegistry();
        var l3 = new Cache(p.L3!, stats.Group("host.l3"));
        var path = new MemoryPath(p, stats.Group("host.cpu0"), l3);
        Assert.Equal(p.L3!.LatencyCycles + p.DramLatencyCycles, path.Access(0x1000, MemoryAccessKind.Read)); // cold: DRAM
        Assert.Equal(p.L1Data.LatencyCycles, path.Access(0x1000, MemoryAccessKind.Read));               // now in L1

        // Push the line out of L1 (8 ways) but not out of L2, by touching 8 more lines of its L1 set.
        ulong l1SetStride = (ulong)(p.L1Data.Sets * p.L1Data.LineBytes);
        for (ulong i = 1; i <= 8; i++)
        {
            path.Access(0x1000 + (i * l1SetStride), MemoryAccessKind.Read);
        }
        Assert.Equal(p.L2.LatencyCycles, path.Access(0x1000, MemoryAccessKind.Read));

        var served = stats.Snapshot(default).Where(s => s.Statistic.StartsWith("served_by::", StringComparison.Ordinal)).ToDictionary(s => s.Statistic, s => s.Value);
        Assert.Equal(1, served["served_by::L1"]);
        Assert.Equal(1, served["served_by::L2"]);
        Assert.Equal(9, served["served_by::Dram"]);
    }

    [Fact]
    public void A_profile_without_L3_goes_from_L2_to_memory()
    {
        HardwareProfile p = HardwareProfiles.Pentium4672;
        var path = new MemoryPath(p, new StatRegistry().Group("cpu"), sharedL3: null);
        Assert.Equal(p.L2.LatencyCycles + p.DramLatencyCycles, path.Access(0, MemoryAccessKind.Read));
        Assert.Throws<ArgumentException>(() => new MemoryPath(HardwareProfiles.NehalemX5570, new StatRegistry().Group("x"), null));
    }
}
