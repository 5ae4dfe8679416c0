using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Devices;

public class NicTests
{
    private const ulong Bar = 0xFEBC_0000;
    private const int Vector = 0x40;
    private const int Ring = 16;

    /// <summary>A kernel-mode e1000-style driver: rings in memory, one TDT write per batch, ICR read and RDT write per interrupt.</summary>
    private sealed class Rig : DeviceRig
    {
        public Rig()
            : base(HardwareProfiles.SkylakeSp8180, MachineConfiguration.Default with { MemoryBytes = 64UL << 20, Nic = false })
        {
            Core.Mmu.LoadCr3(DirectMap.Build(Machine).Pml4); // the driver reaches its rings through the direct map
            Link = new EthernetLink(Sim, 10_000_000_000, Tick.FromNanoseconds(500));
            Nic = new Nic8254x(Sim, "host.nic0", Machine.Memory, Link, accessCycles: 200, () => Core.RaiseInterrupt(Vector));
            Machine.Devices.Bus.MapMmio(Bar, Nic8254x.Size, Nic);
            TxRing = Machine.Memory.AllocateFrame();
            RxRing = Machine.Memory.AllocateFrame();
        }

        public EthernetLink Link { get; }

        public Nic8254x Nic { get; }

        public ulong TxRing { get; }

        public ulong RxRing { get; }

        public int RxTail { get; set; } = Ring - 1;

        public int Received { get; set; }

        /// <summary>The interrupt handler: read ICR (acknowledges), count completed receives, give their buffers back with one RDT write; the rig adds the EOI.</summary>
        protected override IEnumerable<Op> Handle(int vector)
        {
            var ops = new List<Op> { Op.MmioRead(Bar + Nic8254x.Icr) };
            int done = 0;
            // Like a real driver, look at the descriptors' DD bits (memory), not at the RDH register.
            for (int i = (RxTail + 1) % Ring; done < Ring - 1; i = (i + 1) % Ring)
            {
                ulong status = RxRing + ((ulong)i * 16) + 8;
                ops.Add(Op.Load(DirectMap.Of(status)));
                ulong word = Machine.Memory.ReadUInt64(status);
                if ((word & ((ulong)Nic8254x.StatusDd << 32)) == 0)
                {
                    break;
                }
                Machine.Memory.WriteUInt64(status, 0); // recycle the buffer
                done++;
            }
            if (done > 0)
            {
                Received += done;
                RxTail = (RxTail + done) % Ring;
                ops.Add(Op.MmioWrite(Bar + Nic8254x.Rdt, (ulong)RxTail));
            }
            return ops;
        }

        public IEnumerable<Op> Driver(int frames, int bytes)
        {
            // Set up both rings and enable the card and its interrupts (register writes).
            yield return Op.MmioWrite(Bar + Nic8254x.Tdbal, TxRing);
            yield return Op.MmioWrite(Bar + Nic8254x.Tdlen, Ring * 16);
            yield return Op.MmioWrite(Bar + Nic8254x.Rdbal, RxRing);
            yield return Op.MmioWrite(Bar + Nic8254x.Rdlen, Ring * 16);
            yield return Op.MmioWrite(Bar + Nic8254x.Rdt, (ulong)RxTail);
            yield return Op.MmioWrite(Bar + Nic8254x.Rctl, 0x2);
            yield return Op.MmioWrite(Bar + Nic8254x.Tctl, 0x2);
            yield return Op.MmioWrite(Bar + Nic8254x.Ims, Nic8254x.IcrRxt0);
            // A batch of frames: descriptors in memory, then one tail write.
            for (int i = 0; i < frames; i++)
            {
                ulong d = TxRing + ((ulong)i * 16);
                Machine.Memory.WriteUInt64(d, 0x10_0000);
                Machine.Memory.WriteUInt64(d + 8, (ulong)bytes | ((ulong)(Nic8254x.CmdEop | Nic8254x.CmdRs) << 24));
                yield return Op.Store(DirectMap.Of(d));
                yield return Op.Store(DirectMap.Of(d + 8));
            }
            yield return Op.MmioWrite(Bar + Nic8254x.Tdt, (ulong)frames);
            yield return Op.Execute(Instruction.Sti);
            for (int i = 0; i < 4 * frames; i++)
            {
                yield return Op.Execute(Instruction.Hlt);
            }
        }
    }

    private static double Stat(Rig rig, string path, string name) =>
        rig.Sim.Stats.Snapshot(rig.Sim.Now).Single(s => s.Path == path && s.Statistic == name).Value;

    [Fact]
    public void A_batch_sent_to_an_echo_peer_comes_back_at_link_speed_with_few_register_accesses()
    {
        var rig = new Rig();
        rig.Nic.PeerReceives = rig.Nic.PeerSends; // an echo peer
        rig.Core.Start(new OpSequenceFrom(rig.Driver(frames: 8, bytes: 1500)), cpl: 0);
        rig.Sim.Run(Tick.FromMicroseconds(100));
        Assert.Equal(8, Stat(rig, "host.nic0", "frames_sent"));
        Assert.Equal(8, Stat(rig, "host.nic0", "frames_received"));
        Assert.Equal(8, rig.Received);
        Assert.Equal(0, Stat(rig, "host.nic0", "frames_dropped"));
        // Completed transmit descriptors carry DD.
        Assert.NotEqual(0UL, rig.Machine.Memory.ReadUInt64(rig.TxRing + (7 * 16) + 8) & ((ulong)Nic8254x.StatusDd << 32));
        // 8 setup writes, one TDT write for the batch, then per interrupt one ICR read and at most one RDT write.
        double interrupts = Stat(rig, "host.nic0", "interrupts");
        double accesses = Stat(rig, "host.nic0", "accesses");
        Assert.InRange(accesses - 9, interrupts, 2 * interrupts);
        // 1,500-byte frames at 10 Gb/s take 1.216 us each on the line, each way.
        Assert.Equal(new Tick(1_216_000), rig.Link.SerializationTime(1500));
    }

    [Fact]
    public void Frames_without_a_free_receive_buffer_are_dropped()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(Op.MmioWrite(Bar + Nic8254x.Rctl, 0x2)), cpl: 0); // enabled, but no ring
        rig.Sim.Run(Tick.FromMicroseconds(1));
        rig.Nic.PeerSends(new UdpFrame(64, LinuxKernel.FirstServicePort));
        rig.Sim.Run(Tick.FromMicroseconds(10));
        Assert.Equal(1, Stat(rig, "host.nic0", "frames_dropped"));
    }

    /// <summary>Adapts a lazily generated driver to a stream.</summary>
    private sealed class OpSequenceFrom(IEnumerable<Op> ops) : IOpStream
    {
        private readonly IEnumerator<Op> _ops = ops.GetEnumerator();

        public bool TryNext(out Op op)
        {
            bool more = _ops.MoveNext();
            op = more ? _ops.Current : default;
            return more;
        }
    }
}
