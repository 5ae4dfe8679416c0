using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Devices;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Devices;

/// <summary>The 82599's receive-side scaling, its rings and its auto-masked MSI-X causes, driven by register writes as ixgbe drives them.</summary>
public class Nic82599Tests
{
    private const int Queues = 4, Ring = 8, Vector = 0x2B;

    private sealed class Rig
    {
        public Rig()
        {
            Memory = new PhysicalMemory(64UL << 20);
            Link = new EthernetLink(Sim, 10_000_000_000, Tick.FromNanoseconds(500));
            Nic = new Nic82599(Sim, "host.nic0", Memory, Link, accessCycles: 200, (cpu, vector) => Messages.Add((cpu, vector)));
            ReadOnlySpan<byte> key = RssHash.VerificationKey;
            for (int i = 0; i < Nic82599.KeyBytes; i += 4)
            {
                Nic.Write(Nic82599.Rssrk + (ulong)i, (uint)(key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24)));
            }
            for (int i = 0; i < Nic82599.RedirectionEntries; i += 4)
            {
                Nic.Write(Nic82599.Reta + (ulong)i, (uint)((i % Queues) | (((i + 1) % Queues) << 8) | (((i + 2) % Queues) << 16) | (((i + 3) % Queues) << 24)));
            }
            Nic.Write(Nic82599.Mrqc, Nic82599.MrqcRss | Nic82599.MrqcIpv4 | Nic82599.MrqcIpv4Udp);
            for (int q = 0; q < Queues; q++)
            {
                ulong ring = Memory.AllocateFrame();
                for (int i = 0; i < Ring; i++)
                {
                    Memory.WriteUInt64(ring + ((ulong)i * 16), Memory.AllocateFrame());
                }
                ulong registers = Nic82599.ReceiveQueues + ((ulong)q * Nic82599.QueueStride);
                Nic.Write(registers + Nic82599.Dbal, ring);
                Nic.Write(registers + Nic82599.Dlen, Ring * 16);
                Nic.Write(registers + Nic82599.Dctl, Nic82599.QueueEnable);
                Nic.Write(registers + Nic82599.Dt, Ring - 1);
                Nic.SetMessage(q, q, Vector);
                RxRings[q] = ring;
            }
            Nic.Write(Nic82599.Eiac, (1u << Queues) - 1);
            Nic.Write(Nic82599.Eiam, (1u << Queues) - 1);
            Nic.Write(Nic82599.Eims, (1u << Queues) - 1);
        }

        public Simulator Sim { get; } = new(1);

        public PhysicalMemory Memory { get; }

        public EthernetLink Link { get; }

        public Nic82599 Nic { get; }

        public ulong[] RxRings { get; } = new ulong[Queues];

        public List<(int Cpu, int Vector)> Messages { get; } = [];

        public void Send(ushort port, int count)
        {
            for (int i = 0; i < count; i++)
            {
                Nic.PeerSends(new UdpFrame(100, port, (uint)i));
            }
            Sim.Run(Tick.FromMilliseconds(1));
        }

        /// <summary>The descriptors of queue <paramref name="q"/> written back done.</summary>
        public int Done(int q) => Enumerable.Range(0, Ring).Count(i => (Memory.ReadUInt64(RxRings[q] + ((ulong)i * 16) + 8) & Nic82599.ReceiveDone) != 0);
    }

    [Fact]
    public void The_Toeplitz_hash_matches_the_RSS_specifications_verification_values()
    {
        // Microsoft's "Verifying the RSS Hash Calculation": source 66.9.149.187:2794, destination 161.142.100.80:1766.
        byte[] input = [66, 9, 149, 187, 161, 142, 100, 80, 2794 >> 8, 2794 & 0xFF, 1766 >> 8, 1766 & 0xFF];
        Assert.Equal(0x323e8fc2u, RssHash.Toeplitz(RssHash.VerificationKey, input.AsSpan(0, 8)));
        Assert.Equal(0x51ccc178u, RssHash.Toeplitz(RssHash.VerificationKey, input));
    }

    [Fact]
    public void A_flow_lands_in_the_queue_its_hash_picks_and_its_message_goes_to_that_queues_CPU_once_until_the_driver_re_enables_it()
    {
        var rig = new Rig();
        const ushort port = 8000;
        (int queue, uint hash) = rig.Nic.QueueOf(port);
        Assert.Equal((int)(hash & 127) % Queues, queue); // RETA entry i holds i mod 4
        rig.Send(port, 3);
        Assert.Equal(3, rig.Done(queue));
        Assert.Equal(0, Enumerable.Range(0, Queues).Where(q => q != queue).Sum(rig.Done));
        Assert.Equal([(queue, Vector)], rig.Messages); // EIAM masked the cause at the first message: one message for three frames
        Assert.Equal(0UL, rig.Nic.Read(Nic82599.Eims).Value & (1UL << queue));
        Assert.Equal(hash, (uint)(rig.Memory.ReadUInt64(rig.RxRings[queue]) >> 32)); // the write-back carries the hash
        // The poll's re-enable: the frames after the first message set the cause again while it was masked, so it fires once more;
        // that message cleared it (EIAC), and a second re-enable with nothing new sends none.
        rig.Nic.Write(Nic82599.Eims, 1u << queue);
        Assert.Equal(2, rig.Messages.Count);
        rig.Nic.Write(Nic82599.Eims, 1u << queue);
        Assert.Equal(2, rig.Messages.Count);
        rig.Send(port, 1);
        Assert.Equal(3, rig.Messages.Count);
    }

    [Fact]
    public void Flows_to_many_ports_spread_over_every_queue_and_a_full_ring_drops()
    {
        var rig = new Rig();
        int[] queues = [.. Enumerable.Range(0, 64).Select(i => rig.Nic.QueueOf((ushort)(8000 + i)).Queue)];
        Assert.All(Enumerable.Range(0, Queues), q => Assert.Contains(q, queues));
        rig.Send(8000, Ring + 2); // a ring of 8 holds 7 (its tail is one behind its head)
        Assert.Equal(Ring - 1, rig.Done(rig.Nic.QueueOf(8000).Queue));
        Assert.Equal(3, rig.Sim.Stats.Snapshot(rig.Sim.Now).Single(s => s.Path == "host.nic0" && s.Statistic == "frames_dropped").Value);
    }

    [Fact]
    public void Without_RSS_every_frame_goes_to_queue_0()
    {
        var rig = new Rig();
        rig.Nic.Write(Nic82599.Mrqc, 0);
        Assert.All(Enumerable.Range(0, 16), i => Assert.Equal(0, rig.Nic.QueueOf((ushort)(8000 + i)).Queue));
    }
}
