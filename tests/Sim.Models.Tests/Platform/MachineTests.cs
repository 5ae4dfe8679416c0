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

    [Theory]
    [InlineData("nehalem-x5570", 9, null, "at most 2")]          // two sockets of four
    [InlineData("nehalem-x5570", 4, 5, "1 to 4 cores")]          // a socket of five
    [InlineData("p4-672", 2, null, "at most 1")]                // one core on the real part
    [InlineData("core2-merom", 2, null, "no coherence model")]  // two cores sharing an L2 the model does not have
    public void A_topology_the_part_cannot_have_is_refused_with_what_it_can(string profile, int cores, int? perSocket, string says)
    {
        var e = Assert.Throws<ArgumentException>(() =>
            new Machine(new Simulator(1), HardwareProfiles.Get(profile), MachineConfiguration.Default with { Cores = cores, CoresPerSocket = perSocket }, _ => new NullHost()));
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cores_fill_one_socket_before_the_next()
    {
        var host = new NullHost();
        var machine = new Machine(new Simulator(1), HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { Cores = 5 }, m => { host.Machine = m; return host; });
        Assert.Equal(new Topology(2, 4, 1), machine.Topology);
        Assert.NotSame(machine.MemorySystem.LastLevelOf(0), machine.MemorySystem.LastLevelOf(1));
        Assert.Equal(new Topology(1, 4, 1), new Machine(new Simulator(1), HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { Cores = 4 }, _ => host).Topology);
    }

    /// <summary>
    /// Core 0 runs locked increments of one word in a loop while core 1 runs the same loop on the
    /// same word (<paramref name="shared"/>) or on a word of its own: the cycles core 0 takes.
    /// </summary>
    private static long LockedLoop(bool shared)
    {
        const ulong Word = 0xFFFF_8000_0010_0000, Other = Word + 0x1000;
        var sim = new Simulator(1);
        var host = new NullHost();
        var machine = new Machine(sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { Cores = 2 }, m => { host.Machine = m; return host; });
        AddressSpaceBuilder space = machine.NewAddressSpace();
        space.Map4K(Word, machine.Memory.AllocateFrame(), PageEntry.Writable);
        space.Map4K(Other, machine.Memory.AllocateFrame(), PageEntry.Writable);
        for (int c = 0; c < 2; c++)
        {
            ulong word = c == 1 && !shared ? Other : Word;
            machine.Cores[c].Mmu.LoadCr3(space.Pml4);
            machine.Cores[c].Start(new OpSequence([.. Enumerable.Range(0, 500).SelectMany(_ => new[] { Op.Atomic(word), Op.Alu(20) })]), cpl: 0);
        }
        sim.Run(Tick.MaxValue);
        return (long)machine.Cores[0].CyclesElapsed;
    }

    [Fact]
    public void A_locked_operation_on_a_contended_line_costs_the_protocol_s_transfers()
    {
        long alone = LockedLoop(shared: false), contended = LockedLoop(shared: true);
        CoherenceTimings costs = HardwareProfiles.NehalemX5570.Coherence!;
        // Each increment finds the line modified in the other core about every time: a transfer each.
        Assert.InRange((contended - alone) / 500.0, costs.ModifiedTransferCycles * 0.8, costs.ModifiedTransferCycles * 1.2);
    }
}
