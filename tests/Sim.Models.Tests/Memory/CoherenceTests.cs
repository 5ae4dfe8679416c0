using Sim.Engine.Statistics;
using Sim.Models.Hardware;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Memory;

public class CoherenceTests
{
    private static readonly HardwareProfile Nehalem = HardwareProfiles.NehalemX5570 with { Prefetcher = null, L1NextLinePrefetch = false };
    private static readonly CoherenceTimings Costs = Nehalem.Coherence!;

    /// <summary>A Nehalem machine of <paramref name="cores"/> cores, <paramref name="perSocket"/> to a socket, 1 GiB split over its sockets; prefetchers off, to watch the protocol alone.</summary>
    private static (MemorySystem System, MemoryPath[] Cores, StatRegistry Stats) Machine(int cores, int perSocket = 4, HardwareProfile? profile = null)
    {
        var stats = new StatRegistry();
        var topology = new Topology((cores + perSocket - 1) / perSocket, perSocket, 1);
        var system = new MemorySystem(profile ?? Nehalem, topology, cores, 1UL << 30, stats.Group("host"));
        return (system, [.. Enumerable.Range(0, cores).Select(i => system.AddCore(stats.Group($"host.cpu{i}")))], stats);
    }

    private static double Stat(StatRegistry stats, string path, string name) => stats.Snapshot(default).Single(s => s.Path == path && s.Statistic == name).Value;

    [Fact]
    public void A_line_written_by_two_cores_in_turn_costs_a_modified_transfer_each_way()
    {
        (_, MemoryPath[] cpu, StatRegistry stats) = Machine(2);
        const ulong line = 0x40_0000;
        cpu[0].Access(line, MemoryAccessKind.Write); // cold: from memory, now modified in core 0
        for (int round = 0; round < 5; round++)
        {
            Assert.Equal(Costs.ModifiedTransferCycles, cpu[1].Access(line, MemoryAccessKind.Write));
            Assert.Equal(Costs.ModifiedTransferCycles, cpu[0].Access(line, MemoryAccessKind.Write));
        }
        Assert.Equal(10, Stat(stats, "host.coherence", "modified_transfers"));
        Assert.Equal(10, Stat(stats, "host.coherence", "invalidations"));
        Assert.False(cpu[1].HoldsDirty(line)); // the last writer, core 0, took it from core 1
        Assert.True(cpu[0].HoldsDirty(line));
    }

    [Fact]
    public void A_private_line_costs_nothing_extra_whatever_the_other_cores_do()
    {
        (_, MemoryPath[] cpu, StatRegistry stats) = Machine(2);
        cpu[0].Access(0x1000, MemoryAccessKind.Write);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(Nehalem.L1Data.LatencyCycles, cpu[0].Access(0x1000, MemoryAccessKind.Write));
            cpu[1].Access(0x2000 + ((ulong)i * 64), MemoryAccessKind.Write); // other lines: no sharing
        }
        Assert.Equal(0, Stat(stats, "host.coherence", "snoops"));
    }

    [Fact]
    public void A_read_of_a_line_another_core_holds_pays_the_snoop_and_then_shares_it()
    {
        (_, MemoryPath[] cpu, _) = Machine(3);
        cpu[0].Access(0x8000, MemoryAccessKind.Read);                                    // exclusive in core 0
        Assert.Equal(Costs.SnoopCycles, cpu[1].Access(0x8000, MemoryAccessKind.Read));   // clean in core 0: the L3 snoops it
        Assert.Equal(Nehalem.L1Data.LatencyCycles, cpu[1].Access(0x8000, MemoryAccessKind.Read)); // shared: reads hit
        Assert.Equal(Nehalem.L1Data.LatencyCycles, cpu[0].Access(0x8000, MemoryAccessKind.Read));

        // A write to a shared copy must first invalidate the others: an upgrade that costs a snoop.
        Assert.Equal(Nehalem.L1Data.LatencyCycles + Costs.SnoopCycles, cpu[0].Access(0x8000, MemoryAccessKind.Write));
        Assert.Equal(Costs.ModifiedTransferCycles, cpu[1].Access(0x8000, MemoryAccessKind.Read)); // core 1's copy was invalidated; core 0 forwards it
        Assert.False(cpu[0].HoldsDirty(0x8000)); // a reader takes a clean copy; the data went to the L3
    }

    [Fact]
    public void Across_sockets_a_transfer_costs_the_remote_cache_latency()
    {
        (_, MemoryPath[] cpu, StatRegistry stats) = Machine(2, perSocket: 1);
        cpu[0].Access(0x40, MemoryAccessKind.Write);
        Assert.Equal(Costs.RemoteCacheCycles, cpu[1].Access(0x40, MemoryAccessKind.Write));
        Assert.Equal(Costs.RemoteCacheCycles, cpu[0].Access(0x40, MemoryAccessKind.Read));
        Assert.Equal(2, Stat(stats, "host.coherence", "remote_snoops"));
        Assert.True(Costs.RemoteCacheCycles > Costs.ModifiedTransferCycles);
    }

    [Fact]
    public void Memory_of_the_other_socket_costs_the_interconnect_on_top()
    {
        (MemorySystem system, MemoryPath[] cpu, StatRegistry stats) = Machine(2, perSocket: 1);
        ulong local = 0x10_0000, remote = (1UL << 29) + 0x10_0000; // node 1 holds the upper half
        Assert.Equal(0, system.NodeOf(local));
        Assert.Equal(1, system.NodeOf(remote));
        int near = cpu[0].Access(local, MemoryAccessKind.Read);
        cpu[0].Now = 100_000; // long after: the channels are idle again
        int far = cpu[0].Access(remote, MemoryAccessKind.Read);
        Assert.Equal(Nehalem.L3!.LatencyCycles + Nehalem.DramLatencyCycles, near);
        Assert.Equal(near + Costs.RemoteDramExtraCycles, far);
        Assert.Equal(1, Stat(stats, "host.cpu0.memory", "served_by::RemoteDram"));
        Assert.Equal(1, Stat(stats, "host.interconnect.1to0", "lines"));
        Assert.Equal(1, Stat(stats, "host.socket1.memory_controller", "lines"));
    }

    [Fact]
    public void A_dirty_line_of_the_other_node_is_written_back_to_its_home_over_the_interconnect()
    {
        (_, MemoryPath[] cpu, StatRegistry stats) = Machine(2, perSocket: 1);
        const ulong Remote = (1UL << 29) + 0x10_0000; // node 1's
        cpu[0].Access(Remote, MemoryAccessKind.Write);
        // Push it out of every level of socket 0: lines of node 0 in the same L1, L2 and L3 sets.
        ulong stride = (ulong)(Nehalem.L3!.Sets * Nehalem.L3.LineBytes);
        for (ulong i = 1; i <= (ulong)Nehalem.L3.Ways + 1; i++)
        {
            cpu[0].Now = i * 10_000;
            cpu[0].Access((Remote % (1UL << 29)) + (i * stride), MemoryAccessKind.Read);
        }
        Assert.Equal(1, Stat(stats, "host.socket0.l3", "writebacks"));
        Assert.Equal(1, Stat(stats, "host.interconnect.0to1", "lines")); // the written line, toward its home
        Assert.Equal(2, Stat(stats, "host.socket1.memory_controller", "lines")); // read once, written once
        Assert.Equal(Nehalem.L3.Ways + 1, Stat(stats, "host.socket0.memory_controller", "lines")); // the local reads, and no write
    }

    [Fact]
    public void Cores_that_stream_together_share_their_socket_memory_bandwidth()
    {
        // Each core reads a fresh line every cycle at the same times, far faster than memory delivers.
        static double MeanLatency(int cores)
        {
            (_, MemoryPath[] cpu, _) = Machine(cores);
            long total = 0;
            const int lines = 2_000;
            for (int i = 0; i < lines; i++)
            {
                for (int c = 0; c < cores; c++)
                {
                    cpu[c].Now = (ulong)i;
                    total += cpu[c].Access((ulong)((c * lines) + i) * 64 * 1024, MemoryAccessKind.Read); // one line per 64 KiB: no prefetch, no reuse
                }
            }
            return (double)total / (lines * cores);
        }
        double one = MeanLatency(1), two = MeanLatency(2), four = MeanLatency(4);
        // Saturated, a line waits behind all that were asked before it: the queue grows as fast as
        // the cores ask, so twice the cores wait about twice as long.
        Assert.InRange(two / one, 1.8, 2.2);
        Assert.InRange(four / two, 1.8, 2.2);
    }

    [Fact]
    public void The_directory_is_bounded_by_the_last_level_it_is_inclusive_of()
    {
        (MemorySystem system, MemoryPath[] cpu, _) = Machine(2);
        int l3Lines = Nehalem.L3!.SizeBytes / Nehalem.L3.LineBytes;
        for (ulong i = 0; i < (ulong)l3Lines * 3; i++)
        {
            cpu[0].Access(i * 64, MemoryAccessKind.Read);
        }
        Assert.InRange(system.Directory!.TrackedLines, 1, l3Lines);
        // The first lines left the L3, so core 0 lost them too (back-invalidation): core 1 reads them without a snoop.
        cpu[1].Now = 1UL << 40; // long after the queue of misses has drained
        Assert.Equal(Nehalem.L3.LatencyCycles + Nehalem.DramLatencyCycles, cpu[1].Access(0, MemoryAccessKind.Read));
    }

    [Fact]
    public void One_core_has_no_directory_and_parts_without_a_coherence_model_have_one_core()
    {
        var stats = new StatRegistry();
        Assert.Null(MemorySystem.SingleCore(Nehalem, stats.Group("host")).Directory);
        Assert.Throws<ArgumentException>(() => new MemorySystem(HardwareProfiles.Core2Merom, new Topology(1, 2, 1), 2, 1UL << 30, new StatRegistry().Group("host")));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemorySystem(Nehalem, new Topology(2, 4, 1), 4, 1UL << 30, new StatRegistry().Group("host"))); // the second socket unused
    }
}
