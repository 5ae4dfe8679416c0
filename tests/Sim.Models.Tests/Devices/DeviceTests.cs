using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Devices;

public class DeviceTests
{
    /// <summary>A core whose kernel routes device accesses to a bus and answers interrupts with an EOI to the local APIC.</summary>
    private sealed class Rig : DeviceRig
    {
        public Rig()
            : base(HardwareProfiles.NehalemX5570, MachineConfiguration.Default)
        {
            Core.Mmu.LoadCr3(Machine.NewAddressSpace().Pml4);
        }

        public DeviceBus Bus => Machine.Devices.Bus;

        public Uart8250 Uart => Machine.Devices.Com1;

        public LocalApic Apic => Machine.Devices.ApicOf(0);

        public List<Tick> Interrupts { get; } = [];

        protected override IEnumerable<Op> Handle(int vector)
        {
            Interrupts.Add(Sim.Now);
            return [Op.Alu(50)];
        }
    }

    /// <summary>The polled serial output routine of a kernel console: for each byte, read LSR until THRE, then write THR.</summary>
    private sealed class SerialWrite(Core core, string text) : IOpStream
    {
        private int _next;
        private bool _polled;

        public bool TryNext(out Op op)
        {
            if (_next == text.Length)
            {
                op = default;
                return false;
            }
            if (!_polled || (core.LastReadValue & 0x20) == 0)
            {
                _polled = true;
                op = Op.In(0x3F8 + 5);
                return true;
            }
            _polled = false;
            op = Op.Out(0x3F8, text[_next++]);
            return true;
        }
    }

    private static long Stat(Rig rig, string path, string statistic) =>
        (long)rig.Sim.Stats.Snapshot(rig.Sim.Now).Single(s => s.Path == path && s.Statistic == statistic).Value;

    [Fact]
    public void A_polled_serial_write_waits_a_byte_time_per_character_and_loses_nothing()
    {
        var rig = new Rig();
        rig.Core.Start(new SerialWrite(rig.Core, "hi!"), cpl: 0);
        rig.Sim.Run(Tick.MaxValue);
        Assert.Equal("hi!", rig.Uart.Output);
        Assert.Equal(0, Stat(rig, "host.com1", "overruns"));
        Assert.True(rig.Sim.Now >= new Tick(rig.Uart.ByteTime.Picoseconds * 3), $"3 bytes at 115200 baud take at least 3 x {rig.Uart.ByteTime}");
        long accesses = Stat(rig, "host.bus.host.com1", "accesses");
        Assert.True(accesses > 6, $"{accesses} accesses: the driver must have polled LSR while the transmitter was busy");
    }

    [Fact]
    public void Writing_THR_while_busy_overruns()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(Op.Out(0x3F8, 'a'), Op.Out(0x3F8, 'b')), cpl: 0);
        rig.Sim.Run(Tick.MaxValue);
        Assert.Equal("a", rig.Uart.Output);
        Assert.Equal(1, Stat(rig, "host.com1", "overruns"));
    }

    [Fact]
    public void Port_0x80_costs_a_full_legacy_bus_cycle()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(Op.In(PostPort.Port)), cpl: 0);
        rig.Sim.Run(Tick.MaxValue);
        Assert.Equal(0xFFUL, rig.Core.LastReadValue);
        Assert.Equal(HardwareProfile.CyclesIn(PlatformTimings.Default.LegacyIoNanoseconds, HardwareProfiles.NehalemX5570.FrequencyHz),
            rig.Core.CyclesIn(CycleCategory.Kernel));
    }

    [Fact]
    public void The_periodic_APIC_timer_interrupts_on_time_and_each_tick_is_acknowledged_with_an_EOI()
    {
        var rig = new Rig();
        ulong apic = LocalApic.DefaultBase;
        var idle = Enumerable.Repeat(Op.Execute(Instruction.Hlt), 50).ToArray();
        rig.Core.Start(new OpSequence(
            [
                Op.MmioWrite(apic + 0x3E0, 0xB),                 // divide by 1
                Op.MmioWrite(apic + 0x320, 32 | (1u << 17)),     // periodic, vector 32, unmasked
                Op.MmioWrite(apic + 0x380, 1_000),               // 1,000 ticks of 100 MHz: 10 us
                Op.Execute(Instruction.Sti),
                .. idle,
            ]), cpl: 0);
        rig.Sim.Run(Tick.FromMicroseconds(105));
        Assert.Equal(10, rig.Interrupts.Count);
        for (int i = 1; i < rig.Interrupts.Count; i++)
        {
            Assert.Equal(Tick.FromMicroseconds(10), rig.Interrupts[i] - rig.Interrupts[i - 1]);
        }
        Assert.Equal(10, Stat(rig, "host.cpu0.apic", "eois"));
        Assert.False(rig.Apic.InService(32));
        Assert.True(rig.Core.CyclesIn(CycleCategory.Idle) > 0);
    }

    [Fact]
    public void A_masked_timer_counts_down_without_interrupting_and_a_one_shot_fires_once()
    {
        var rig = new Rig();
        rig.Apic.Write(0x3E0, 0xB);
        rig.Apic.Write(0x320, 40 | (1u << 16));  // masked
        rig.Apic.Write(0x380, 1_000);
        rig.Sim.Run(Tick.FromMicroseconds(4));
        Assert.Equal(600UL, rig.Apic.Read(0x390).Value); // 400 of 1,000 ticks elapsed at 100 MHz
        rig.Sim.Run(Tick.FromMicroseconds(50));
        Assert.Empty(rig.Interrupts);

        rig.Core.Start(new OpSequence(Op.Execute(Instruction.Sti), Op.Execute(Instruction.Hlt), Op.Execute(Instruction.Hlt)), cpl: 0);
        rig.Apic.Write(0x320, 41);                // one-shot, unmasked
        rig.Apic.Write(0x380, 500);
        rig.Sim.Run(Tick.FromMicroseconds(200));
        Assert.Single(rig.Interrupts);
        Assert.Equal(0UL, rig.Apic.Read(0x390).Value);
        Assert.Equal(0x0005_0014UL, rig.Apic.Read(0x30).Value);
    }

    [Fact]
    public void Unclaimed_accesses_and_overlapping_maps()
    {
        var rig = new Rig();
        int legacy = HardwareProfile.CyclesIn(PlatformTimings.Default.LegacyIoNanoseconds, HardwareProfiles.NehalemX5570.FrequencyHz);
        Assert.Equal(legacy, rig.Bus.Access(Instruction.In, 0x60, 0, out ulong value)); // a cycle on the bus that nothing answers
        Assert.Equal(ulong.MaxValue, value);
        Assert.Throws<ArgumentException>(() => rig.Bus.MapPorts(0x3FC, 0x400, new PostPort(1)));
        rig.Bus.MapMmio(0xFED0_0000, 0x1000, rig.Apic);
        Assert.Throws<ArgumentException>(() => rig.Bus.MapMmio(0xFED0_0800, 0x1000, rig.Apic));
    }
}
