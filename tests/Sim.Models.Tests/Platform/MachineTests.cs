using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Platform;

public class MachineTests
{
    private sealed class NullHost : ICoreHost
    {
        public Machine? Machine { get; set; }

        public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress) => throw new InvalidOperationException();

        public IOpStream OnSyscall(Core core, ulong number) => throw new InvalidOperationException();

        public IOpStream OnInterrupt(Core core, int vector) => new OpSequence(Op.Execute(Instruction.Iret));

        public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
            Machine!.DeviceAccess(core, instruction, address, value, out readValue);

        public IOpStream? OnStreamEnd(Core core) => null;
    }

    [Fact]
    public void Each_core_has_its_own_caches_MMU_and_APIC_and_shares_the_L3()
    {
        var sim = new Simulator(1);
        var host = new NullHost();
        var machine = new Machine(sim, HardwareProfiles.SkylakeSp8180, MachineConfiguration.Default with { Cores = 2 }, m => { host.Machine = m; return host; });
        Assert.Equal(2, machine.Cores.Count);
        Assert.NotSame(machine.Cores[0].Mmu, machine.Cores[1].Mmu);
        Assert.NotSame(machine.Devices.ApicOf(0), machine.Devices.ApicOf(1));
        Assert.NotNull(machine.L3);

        // Each core reads its own APIC ID at the same address.
        foreach (Core core in machine.Cores)
        {
            core.Mmu.LoadCr3(machine.NewAddressSpace().Pml4);
            core.Start(new OpSequence(Op.MmioRead(LocalApic.DefaultBase + 0x20)), cpl: 0);
        }
        sim.Run(Tick.MaxValue);
        Assert.Equal(0UL, machine.Cores[0].LastReadValue >> 24);
        Assert.Equal(1UL, machine.Cores[1].LastReadValue >> 24);
        var paths = sim.Stats.All.Select(s => s.Path).Distinct().ToArray();
        Assert.Contains("host.cpu1.l1d", paths);
        Assert.Contains("host.l3", paths);
        Assert.Contains("host.cpu1.apic", paths);
    }

    [Fact]
    public void Bad_configurations_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new Machine(new Simulator(1), HardwareProfiles.Pentium4672, MachineConfiguration.Default with { Cores = 0 }, _ => new NullHost()));
    }
}
