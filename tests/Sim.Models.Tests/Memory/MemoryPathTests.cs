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
        MemoryPath path = MemorySystem.SingleCore(p, stats.Group("host")).AddCore(stats.Group("host.cpu0"));
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
        MemoryPath path = Single(p, new StatRegistry());
        Assert.Equal(p.L2.LatencyCycles + p.DramLatencyCycles, path.Access(0, MemoryAccessKind.Read));
    }

    /// <summary>Nehalem with its L2 streamer only (the L1 next-line prefetcher off), to watch the streamer alone.</summary>
    private static (MemoryPath Path, StatRegistry Stats, HardwareProfile Profile) Nehalem()
    {
        HardwareProfile p = HardwareProfiles.NehalemX5570 with { L1NextLinePrefetch = false };
        var stats = new StatRegistry();
        return (Single(p, stats), stats, p);
    }

    private static MemoryPath Single(HardwareProfile p, StatRegistry stats) => MemorySystem.SingleCore(p, stats.Group("host")).AddCore(stats.Group("cpu"));

    private static double Prefetches(StatRegistry stats) => stats.Snapshot(default).Single(s => s.Statistic == "prefetches").Value;

    [Fact]
    public void Two_ascending_lines_start_a_stream_that_runs_ahead_within_the_page_only()
    {
        (MemoryPath path, StatRegistry stats, HardwareProfile p) = Nehalem();
        path.Access(0x10000, MemoryAccessKind.Read);
        Assert.Equal(0, Prefetches(stats));
        path.Now = 1_000;
        path.Access(0x10040, MemoryAccessKind.Read);
        Assert.Equal(p.Prefetcher!.DistanceLines, Prefetches(stats)); // lines 2 to 21 of the page
        path.Now = 100_000; // long after: line 2 has arrived, an L2 hit with no wait
        Assert.Equal(p.L2.LatencyCycles, path.Access(0x10080, MemoryAccessKind.Read));

        path.Access(0x10000 + (62 * 64), MemoryAccessKind.Read);
        path.Access(0x10000 + (63 * 64), MemoryAccessKind.Read); // the page's last line: nothing beyond is fetched
        double before = Prefetches(stats);
        path.Access(0x11000, MemoryAccessKind.Read);
        Assert.Equal(before, Prefetches(stats));
    }

    [Fact]
    public void The_streamer_takes_a_line_the_L3_holds_from_the_L3_not_from_memory()
    {
        (MemoryPath path, _, HardwareProfile p) = Nehalem();
        const ulong Page = 0x40000;
        for (ulong line = 0; line < 64; line++)
        {
            path.Now += 1_000;
            path.Access(Page + (line * 64), MemoryAccessKind.Read); // the page in the L2 and the L3
        }
        for (ulong a = 0x100000; a < 0x100000 + (2 * (ulong)p.L2.SizeBytes); a += 64)
        {
            path.Now += 1_000;
            path.Access(a, MemoryAccessKind.Read); // twice the L2's size: the page leaves the L2, not the 8 MiB L3
        }
        path.Now += 1_000;
        Assert.Equal(p.L3!.LatencyCycles, path.Access(Page, MemoryAccessKind.Read)); // an L3 hit
        path.Now += 1_000;
        path.Access(Page + 64, MemoryAccessKind.Read); // a stream: lines 2 onward are prefetched, from the L3
        path.Now += 1;
        Assert.InRange(path.Access(Page + 128, MemoryAccessKind.Read), p.L2.LatencyCycles, p.L2.LatencyCycles + p.L3.LatencyCycles);
    }

    [Fact]
    public void A_line_written_once_reaches_memory_when_every_level_has_let_it_go()
    {
        (MemoryPath path, StatRegistry stats, HardwareProfile p) = Nehalem();
        const ulong Line = 0x80000;
        path.Access(Line, MemoryAccessKind.Read);  // in every level, clean
        path.Access(Line, MemoryAccessKind.Write); // an L1 hit: modified in the L1 only
        foreach ((CacheGeometry level, int ways) in new[] { (p.L1Data, p.L1Data.Ways), (p.L2, p.L2.Ways), (p.L3!, p.L3!.Ways) })
        {
            ulong stride = (ulong)(level.Sets * level.LineBytes); // the same set of this level, and of those above
            for (ulong i = 1; i <= (ulong)ways; i++)
            {
                path.Now += 1_000;
                path.Access(Line + (i * stride) + (1UL << 32), MemoryAccessKind.Read); // far from the first line, so the streamer leaves it alone
            }
        }
        double Writebacks(string level) => stats.Snapshot(default).Single(s => s.Path.EndsWith(level, StringComparison.Ordinal) && s.Statistic == "writebacks").Value;
        Assert.Equal(1, Writebacks("l1d"));
        Assert.Equal(1, Writebacks("l2")); // the L1's write-back left the L2's copy modified
        Assert.Equal(1, Writebacks("l3")); // and the L2's the L3's: one write to memory
    }

    [Fact]
    public void A_line_demanded_before_its_prefetch_arrives_waits_for_the_rest()
    {
        (MemoryPath path, _, HardwareProfile p) = Nehalem();
        path.Access(0x20000, MemoryAccessKind.Read);
        path.Access(0x20040, MemoryAccessKind.Read);
        int latency = path.Access(0x20080, MemoryAccessKind.Read); // at once
        Assert.InRange(latency, p.L2.LatencyCycles + 1, p.L2.LatencyCycles + p.L3!.LatencyCycles + p.DramLatencyCycles + 20); // behind the two demand misses on the channel
    }

    [Fact]
    public void Misses_at_the_same_moment_queue_for_the_memory_channel()
    {
        HardwareProfile p = HardwareProfiles.Pentium4672;
        var path = Single(p, new StatRegistry());
        int first = path.Access(0x100000, MemoryAccessKind.Read);
        int second = path.Access(0x200000, MemoryAccessKind.Read); // another page, same cycle
        // 64 bytes on the 6.4 GB/s bus take 10 ns: 38 cycles at 3.8 GHz.
        Assert.Equal(38, second - first);
    }

    [Fact]
    public void The_next_line_prefetcher_brings_the_following_line_into_the_L1_on_an_ascending_miss()
    {
        HardwareProfile p = HardwareProfiles.NehalemX5570;
        var stats = new StatRegistry();
        var path = Single(p, stats);
        path.Access(0x30000, MemoryAccessKind.Read);          // line 0: cold
        path.Now = 10_000;
        path.Access(0x30040, MemoryAccessKind.Read);          // line 1 misses with line 0 in the L1: line 2 is fetched into the L1
        path.Now = 20_000;                                    // long after: it has arrived
        Assert.Equal(p.L1Data.LatencyCycles, path.Access(0x30080, MemoryAccessKind.Read));
        path.Now = 20_001;
        int next = path.Access(0x300C0, MemoryAccessKind.Read); // line 3, asked for when line 2 was first used: still on its way from the L2
        Assert.InRange(next, p.L1Data.LatencyCycles + 1, p.L1Data.LatencyCycles + p.L2.LatencyCycles);
    }
}
