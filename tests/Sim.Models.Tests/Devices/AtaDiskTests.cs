using Sim.Engine;
using Sim.Engine.Randomness;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Devices;

public class AtaDiskTests
{
    private const int Vector = 0x2E;

    /// <summary>A PIO driver: program the task file, then in each interrupt read the status and move one sector through the data port.</summary>
    private sealed class Rig : DeviceRig
    {
        public Rig(DiskKind disk = DiskKind.SolidState)
            : base(HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = 64UL << 20, Disk = disk, DiskInterface = DiskInterface.AtaPio })
        {
            Core.Mmu.LoadCr3(Machine.NewAddressSpace().Pml4);
        }

        public bool Writing { get; set; }

        public List<Tick> Interrupts { get; } = [];

        protected override IEnumerable<Op> Handle(int vector)
        {
            Interrupts.Add(Sim.Now);
            var ops = new List<Op> { Op.In(AtaDisk.CommandBase + 7) }; // status: acknowledges the interrupt
            if (!Writing)
            {
                ops.AddRange(Enumerable.Repeat(Op.In(AtaDisk.CommandBase), 256)); // one sector, a word at a time
            }
            return ops;
        }

        public static Op[] Request(byte command, int sectors, uint lba)
        {
            var ops = new List<Op>
            {
                Op.MmioWrite(IoApic.DefaultBase, 0x10 + (2 * PlatformDevices.DiskIrq)),
                Op.MmioWrite(IoApic.DefaultBase + 0x10, Vector | (1UL << 15)), // level-triggered, to APIC 0
                Op.Out(AtaDisk.CommandBase + 2, (ulong)sectors),
                Op.Out(AtaDisk.CommandBase + 3, lba & 0xFF),
                Op.Out(AtaDisk.CommandBase + 4, (lba >> 8) & 0xFF),
                Op.Out(AtaDisk.CommandBase + 5, (lba >> 16) & 0xFF),
                Op.Out(AtaDisk.CommandBase + 6, 0xE0 | ((lba >> 24) & 0x0F)),
                Op.Out(AtaDisk.CommandBase + 7, command),
            };
            if (command == AtaDisk.WriteSectors)
            {
                ops.AddRange(Enumerable.Repeat(Op.Out(AtaDisk.CommandBase, 0), 256 * sectors));
            }
            ops.Add(Op.Execute(Instruction.Sti));
            ops.AddRange(Enumerable.Repeat(Op.Execute(Instruction.Hlt), sectors + 2));
            return [.. ops];
        }

        public double Stat(string name) => Sim.Stats.Snapshot(Sim.Now).Single(s => s.Path == "host.disk0" && s.Statistic == name).Value;
    }

    [Fact]
    public void Reading_two_sectors_takes_an_interrupt_and_257_port_accesses_each()
    {
        var rig = new Rig();
        rig.Machine.Cores[0].Start(new OpSequence(Rig.Request(AtaDisk.ReadSectors, 2, 1000)), cpl: 0);
        rig.Sim.Run(Tick.FromMilliseconds(5));
        Assert.Equal(2, rig.Stat("sectors_read"));
        Assert.Equal(2, rig.Interrupts.Count);
        Assert.Equal(6 + (2 * 257), rig.Stat("accesses"));
        // The first sector is offered after the SSD's 75 us latency and the 1 KiB transfer.
        Tick expected = new SolidStateDisk(1).Access(1000, 2, write: false).Latency;
        Assert.True(rig.Interrupts[0] >= expected && rig.Interrupts[0] < expected + Tick.FromMicroseconds(5), $"{rig.Interrupts[0]} vs {expected}");
    }

    [Fact]
    public void Writing_a_sector_interrupts_once_when_it_reaches_the_medium()
    {
        var rig = new Rig { Writing = true };
        rig.Machine.Cores[0].Start(new OpSequence(Rig.Request(AtaDisk.WriteSectors, 1, 7)), cpl: 0);
        rig.Sim.Run(Tick.FromMilliseconds(5));
        Assert.Equal(1, rig.Stat("sectors_written"));
        Assert.Single(rig.Interrupts);
    }

    [Fact]
    public void A_rotating_disk_seeks_for_a_random_request_and_streams_a_sequential_one()
    {
        var disk = new RotatingDisk(1UL << 30, new RandomStream(4));
        Tick random = disk.Access(123_456, 8, write: false).Latency;
        Tick sequential = disk.Access(123_464, 8, write: false).Latency;
        Assert.InRange(random.TotalSeconds * 1e3, 8.5, 8.5 + 8.34);       // seek + up to one revolution (+ transfer)
        Assert.Equal(8 * 512 / 100e6, sequential.TotalSeconds, 1e-9);       // transfer only
    }

    [Fact]
    public void A_request_beyond_the_disk_is_aborted()
    {
        var rig = new Rig();
        rig.Machine.Cores[0].Start(new OpSequence(Rig.Request(AtaDisk.ReadSectors, 1, (uint)(MachineConfiguration.Default.DiskSectors & 0x0FFF_FFFF))), cpl: 0);
        rig.Sim.Run(Tick.FromMilliseconds(1));
        Assert.Equal(0, rig.Stat("commands"));
        Assert.Equal(AtaDisk.StatusError, rig.Machine.Devices.Disk!.Read(AtaDisk.ControlPort).Value & AtaDisk.StatusError);
    }
}
