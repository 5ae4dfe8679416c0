using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Devices;

public class InterprocessorInterruptTests
{
    private const ulong Icr = LocalApic.DefaultBase + 0x300, IcrHigh = LocalApic.DefaultBase + 0x310;

    /// <summary>Records every interrupt each core takes, with its time, and acknowledges it.</summary>
    private sealed class RecordingHost : ICoreHost
    {
        public Machine? Machine { get; set; }

        public List<(string Core, int Vector, Tick At)> Taken { get; } = [];

        public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress) => throw new InvalidOperationException();

        public IOpStream OnSyscall(Core core, ulong number) => throw new InvalidOperationException();

        public IOpStream OnInterrupt(Core core, int vector)
        {
            Taken.Add((core.Path, vector, core.LocalTime));
            return new OpSequence(Op.MmioWrite(LocalApic.DefaultBase + 0xB0, 0), Op.Execute(Instruction.Iret));
        }

        public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
            Machine!.DeviceAccess(core, instruction, address, value, out readValue);

        public IOpStream? OnStreamEnd(Core core) => null;
    }

    /// <summary>A Nehalem of <paramref name="cores"/> cores: core 0 runs <paramref name="sender"/>, the others idle in a HLT loop.</summary>
    private static (Simulator Sim, Machine Machine, RecordingHost Host) Run(int cores, params Op[] sender) => Run(cores, PlatformTimings.Default, sender);

    private static (Simulator Sim, Machine Machine, RecordingHost Host) Run(int cores, PlatformTimings timings, params Op[] sender)
    {
        var sim = new Simulator(1);
        var host = new RecordingHost();
        var machine = new Machine(sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { Cores = cores, Timings = timings }, m => { host.Machine = m; return host; });
        ulong cr3 = machine.NewAddressSpace().Pml4;
        for (int c = 0; c < cores; c++)
        {
            machine.Cores[c].Mmu.LoadCr3(cr3);
            machine.Cores[c].Start(c == 0 ? new OpSequence(sender) : new OpSequence(Op.Execute(Instruction.Hlt), Op.Execute(Instruction.Hlt)), cpl: 0);
        }
        sim.Run(Tick.FromMicroseconds(100));
        return (sim, machine, host);
    }

    private static double Stat(Simulator sim, string path, string name) => sim.Stats.Snapshot(sim.Now).Single(s => s.Path == path && s.Statistic == name).Value;

    [Fact]
    public void An_ICR_write_interrupts_the_destination_core_after_the_delivery_time()
    {
        Op[] send = [Op.MmioWrite(IcrHigh, 2UL << 24), Op.MmioWrite(Icr, 0xFD)];
        (Simulator sim, _, RecordingHost host) = Run(4, send);
        (string core, int vector, Tick at) = Assert.Single(host.Taken);
        Assert.Equal("host.cpu2", core);
        Assert.Equal(0xFD, vector);
        (_, _, RecordingHost slower) = Run(4, PlatformTimings.Default with { IpiDeliveryNanoseconds = 1_500 }, send);
        Assert.Equal(Tick.FromNanoseconds(1_000), slower.Taken[0].At - at); // the delivery time is the platform's, the rest the same
        Assert.Equal(1, Stat(sim, "host.cpu0.apic", "ipis_sent"));
        Assert.Equal(1, Stat(sim, "host.cpu2.apic", "ipis_received"));
        Assert.Equal(0, Stat(sim, "host.cpu1.apic", "ipis_received"));
    }

    [Fact]
    public void The_all_but_self_shorthand_reaches_every_other_core_and_a_logical_destination_none()
    {
        (_, _, RecordingHost host) = Run(4, Op.MmioWrite(Icr, 0xFC | (3UL << 18)), Op.MmioWrite(Icr, 0xFB | (1UL << 11)));
        Assert.Equal(["host.cpu1", "host.cpu2", "host.cpu3"], host.Taken.Select(t => t.Core).Order());
        Assert.All(host.Taken, t => Assert.Equal(0xFC, t.Vector));
    }
}
