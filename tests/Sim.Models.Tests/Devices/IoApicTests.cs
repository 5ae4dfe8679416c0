using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Devices;

public class IoApicTests
{
    private sealed class Rig : DeviceRig
    {
        public Rig()
            : base(HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = 64UL << 20 })
        {
            Core.Mmu.LoadCr3(Machine.NewAddressSpace().Pml4);
        }

        public List<int> Handled { get; } = [];

        /// <summary>When set, the handler lowers this level-triggered line before its EOI (as reading a device's cause register does).</summary>
        public int? LevelPinToClear { get; set; }

        protected override IEnumerable<Op> Handle(int vector)
        {
            Handled.Add(vector);
            if (LevelPinToClear is { } pin)
            {
                Machine.Devices.IoApic.Deassert(pin);
            }
            return [Op.Alu(20)];
        }

        /// <summary>The two register accesses per half entry that programming the I/O APIC takes (select, then write).</summary>
        public static IEnumerable<Op> Program(int pin, int vector, bool level) =>
        [
            Op.MmioWrite(IoApic.DefaultBase, (ulong)(0x11 + (2 * pin))),
            Op.MmioWrite(IoApic.DefaultBase + 0x10, 0),                                 // destination APIC 0
            Op.MmioWrite(IoApic.DefaultBase, (ulong)(0x10 + (2 * pin))),
            Op.MmioWrite(IoApic.DefaultBase + 0x10, (uint)vector | (level ? 1UL << 15 : 0UL)), // unmasked
        ];
    }

    [Fact]
    public void A_programmed_edge_line_reaches_the_core_once_per_edge()
    {
        var rig = new Rig();
        rig.Machine.Cores[0].Start(new OpSequence([.. Rig.Program(4, 0x24, level: false), Op.Execute(Instruction.Sti), .. Enumerable.Repeat(Op.Execute(Instruction.Hlt), 5)]), cpl: 0);
        rig.Sim.Run(Tick.FromMicroseconds(1));
        rig.Machine.Devices.IoApic.Assert(4);
        rig.Sim.Run(Tick.FromMicroseconds(2));
        rig.Machine.Devices.IoApic.Assert(4);
        rig.Sim.Run(Tick.FromMicroseconds(3));
        Assert.Equal([0x24, 0x24], rig.Handled);
        Assert.False(rig.Machine.Devices.ApicOf(0).InService(0x24));
    }

    [Fact]
    public void A_level_line_is_held_off_until_the_EOI_and_comes_back_if_still_asserted()
    {
        var rig = new Rig();
        rig.Machine.Cores[0].Start(new OpSequence([.. Rig.Program(11, 0x2B, level: true), Op.Execute(Instruction.Sti), .. Enumerable.Repeat(Op.Execute(Instruction.Hlt), 5)]), cpl: 0);
        rig.Sim.Run(Tick.FromMicroseconds(1));
        rig.Machine.Devices.IoApic.Assert(11);     // the handler does not clear the device: the EOI re-delivers
        rig.Machine.Devices.IoApic.Assert(11);     // while remote IRR is set, a second assertion is not sent
        rig.Sim.Run(Tick.FromMicroseconds(2));
        Assert.True(rig.Handled.Count >= 2);
        rig.LevelPinToClear = 11;          // now the handler acknowledges the device before its EOI
        rig.Sim.Run(Tick.FromMicroseconds(4));
        int settled = rig.Handled.Count;
        rig.Sim.Run(Tick.FromMicroseconds(6));
        Assert.Equal(settled, rig.Handled.Count);
    }

    [Fact]
    public void Lines_start_masked_and_the_version_register_reports_24_entries()
    {
        var rig = new Rig();
        rig.Machine.Devices.IoApic.Assert(3);
        rig.Sim.Run(Tick.FromMicroseconds(1));
        Assert.Empty(rig.Handled);
        rig.Machine.Devices.IoApic.Write(0x00, 0x01);
        Assert.Equal(0x0017_0011UL, rig.Machine.Devices.IoApic.Read(0x10).Value);
        Assert.Throws<ArgumentOutOfRangeException>(() => rig.Machine.Devices.IoApic.Assert(24));
    }
}
