using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Devices;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Devices;

public class AhciDiskTests
{
    /// <summary>An adapter on a bare simulator, its port started and interrupts enabled, with a driver's command building.</summary>
    private sealed class Rig
    {
        public Rig()
        {
            Sim = new Simulator(1);
            Memory = new PhysicalMemory(64UL << 20);
            Disk = new AhciDisk(Sim, "disk", Memory, DiskImage.Whole(Sim, new SolidStateDisk(1UL << 20), Sim.Stats.Group("disk.medium")), accessCycles: 100, Tick.FromNanoseconds(1_000),
                () => Raised.Add(Sim.Now), () => Lowered++);
            List = Memory.AllocateFrame();
            Tables = Memory.AllocateFrame();
            Disk.Write(AhciDisk.PxClb, List);
            Disk.Write(AhciDisk.PxCmd, AhciDisk.PxCmdStart | AhciDisk.PxCmdFisReceive);
            Disk.Write(AhciDisk.PxIe, AhciDisk.PxIsSetDeviceBits | AhciDisk.PxIsTaskFileError);
            Disk.Write(AhciDisk.Ghc, AhciDisk.GhcAhciEnable | AhciDisk.GhcInterruptEnable);
        }

        public Simulator Sim { get; }

        public PhysicalMemory Memory { get; }

        public AhciDisk Disk { get; }

        public ulong List { get; }

        public ulong Tables { get; }

        public List<Tick> Raised { get; } = [];

        public int Lowered { get; set; }

        /// <summary>A READ FPDMA QUEUED of 8 sectors at <paramref name="lba"/> in <paramref name="slot"/>, issued with PxSACT then PxCI.</summary>
        public void Read(int slot, ulong lba, byte command = AhciDisk.ReadFpdmaQueued)
        {
            ulong table = Tables + ((ulong)slot * 256);
            Memory.WriteUInt64(List + ((ulong)slot * 32), 5 | (1UL << 16));
            Memory.WriteUInt64(List + ((ulong)slot * 32) + 8, table);
            Memory.WriteUInt64(table, AhciDisk.FisHostToDevice | (0x80UL << 8) | ((ulong)command << 16) | (8UL << 24) | ((lba & 0xFF_FFFF) << 32) | (0x40UL << 56));
            Memory.WriteUInt64(table + 8, ((lba >> 24) & 0xFF_FFFF) | ((ulong)slot << 35));
            Disk.Write(AhciDisk.PxSact, 1u << slot);
            Disk.Write(AhciDisk.PxCi, 1u << slot);
        }
    }

    [Fact]
    public void Queued_reads_overlap_in_the_SSD_and_each_completion_clears_its_PxSACT_bit()
    {
        var rig = new Rig();
        rig.Read(0, 1000);
        rig.Read(1, 5000);
        Assert.Equal(0b11UL, rig.Disk.Read(AhciDisk.PxSact).Value);
        rig.Sim.Run(Tick.FromMicroseconds(50));
        Assert.Equal(0UL, rig.Disk.Read(AhciDisk.PxCi).Value); // both accepted
        Assert.Empty(rig.Raised);
        rig.Sim.Run(Tick.FromMilliseconds(1));
        // The first completes after 1 us of fetch, 75 us of flash and 16.4 us of transfer; the
        // second starts 1/35,000 s later (the drive's random-read throughput), not after the first.
        Assert.Single(rig.Raised); // the line stays up until the driver clears IS and PxIS
        Assert.InRange(rig.Raised[0].TotalMicroseconds, 92.0, 93.0);
        Assert.Equal(0UL, rig.Disk.Read(AhciDisk.PxSact).Value);
        Assert.NotEqual(0UL, rig.Disk.Read(AhciDisk.PxIs).Value & AhciDisk.PxIsSetDeviceBits);
        rig.Disk.Write(AhciDisk.PxIs, AhciDisk.PxIsSetDeviceBits);
        rig.Disk.Write(AhciDisk.Is, 1);
        Assert.Equal(1, rig.Lowered);
        Assert.Equal(16, rig.Sim.Stats.Snapshot(rig.Sim.Now).Single(s => s.Path == "disk" && s.Statistic == "sectors_read").Value);
    }

    [Fact]
    public void Clearing_IS_while_the_port_still_has_a_pending_status_keeps_the_line_up()
    {
        var rig = new Rig();
        rig.Read(0, 1000);
        rig.Sim.Run(Tick.FromMilliseconds(1));
        rig.Disk.Write(AhciDisk.Is, 1); // IS first, PxIS still set: the port asserts IS again
        Assert.Equal(0, rig.Lowered);
        Assert.Equal(1UL, rig.Disk.Read(AhciDisk.Is).Value);
    }

    [Fact]
    public void A_malformed_command_is_refused_with_a_task_file_error()
    {
        var rig = new Rig();
        rig.Read(3, 1000, command: 0x25); // READ DMA EXT is not a queued command
        rig.Sim.Run(Tick.FromMilliseconds(1));
        Assert.NotEqual(0UL, rig.Disk.Read(AhciDisk.PxIs).Value & AhciDisk.PxIsTaskFileError);
        Assert.Equal(0x51UL, rig.Disk.Read(AhciDisk.PxTfd).Value);
        Assert.Equal(0UL, rig.Disk.Read(AhciDisk.PxSact).Value);
        Assert.Single(rig.Raised);
    }

    [Fact]
    public void Issuing_before_the_port_is_started_is_a_driver_error()
    {
        var rig = new Rig();
        rig.Disk.Write(AhciDisk.PxCmd, 0);
        Assert.Throws<InvalidOperationException>(() => rig.Read(0, 1000));
    }
}
