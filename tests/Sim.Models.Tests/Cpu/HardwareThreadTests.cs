using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Cpu;

public class HardwareThreadTests
{
    private static Machine Smt(HardwareProfile profile, int cores) =>
        new(new Simulator(1), profile, MachineConfiguration.Default with { Cores = cores, ThreadsPerCore = 2 }, _ => new BareHost());

    [Fact]
    public void A_core_s_two_threads_are_logical_CPUs_numbered_after_every_core_s_first_and_share_its_caches()
    {
        Machine m = Smt(HardwareProfiles.NehalemX5570, cores: 4);
        Assert.Equal(8, m.Cores.Count);
        Assert.Equal(new Topology(1, 4, 2), m.Topology);
        for (int c = 0; c < 4; c++)
        {
            Assert.Same(m.Cores[c], m.Cores[c + 4].Sibling);
            Assert.Same(m.Cores[c + 4], m.Cores[c].Sibling);
            Assert.Same(m.Cores[c].Memory, m.Cores[c + 4].Memory); // L1s and L2 are the core's
            Assert.NotSame(m.Cores[c].Mmu, m.Cores[c + 4].Mmu);     // each thread its own CR3 and TLB share
        }
        Assert.Null(new Machine(new Simulator(1), HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { Cores = 4 }, _ => new BareHost()).Cores[0].Sibling);
        MemoryPath l1 = m.Cores[0].Memory;
        l1.Access(0x10_0000, MemoryAccessKind.Read);
        Assert.Equal(HardwareProfiles.NehalemX5570.L1Data.LatencyCycles, m.Cores[4].Memory.Access(0x10_0000, MemoryAccessKind.Read)); // the sibling's load hits the shared L1
    }

    [Fact]
    public void Each_thread_has_half_of_every_TLB_array_and_of_the_store_buffer()
    {
        HardwareProfile nehalem = HardwareProfiles.NehalemX5570, thread = HardwareThreads.PerThread(nehalem, 2);
        Assert.Same(nehalem, HardwareThreads.PerThread(nehalem, 1));
        Assert.Equal(nehalem.Tlbs.DataSmall.Entries / 2, thread.Tlbs.DataSmall.Entries);
        Assert.Equal(nehalem.Tlbs.DataSmall.Ways, thread.Tlbs.DataSmall.Ways);
        Assert.Equal(nehalem.Tlbs.SecondLevel!.Entries / 2, thread.Tlbs.SecondLevel!.Entries);
        Assert.Equal(nehalem.Tlbs.InstructionSmall.Entries / 2, thread.Tlbs.InstructionSmall.Entries);
        Assert.Equal(nehalem.Timing.StoreBufferEntries / 2, thread.Timing.StoreBufferEntries);
        thread.Validate();
    }

    /// <summary>
    /// A part whose core issues 4 instructions a cycle and runs ALU blocks at 4 a cycle alone:
    /// with its sibling busy a thread gets 2 a cycle, so its block takes twice as long; with the
    /// sibling halted it keeps the whole core.
    /// </summary>
    [Theory]
    [InlineData(false, 25_000)]
    [InlineData(true, 50_000)]
    public void Busy_threads_split_the_core_s_issue_slots_and_a_halted_one_leaves_them_whole(bool siblingBusy, long cycles)
    {
        HardwareProfile wide = HardwareProfiles.NehalemX5570 with { Timing = HardwareProfiles.NehalemX5570.Timing with { AluMilliCycles = 250 } };
        Machine m = Smt(wide, cores: 1);
        Op[] work = [.. Enumerable.Repeat(Op.Alu(1_000), 100)];
        m.Cores[0].Start(new OpSequence(work), cpl: 0);
        if (siblingBusy)
        {
            m.Cores[1].Start(new OpSequence([.. Enumerable.Repeat(Op.Alu(1_000), 200)]), cpl: 0);
        }
        m.Sim.Run(Tick.MaxValue);
        Assert.InRange(m.Cores[0].CyclesIn(CycleCategory.Kernel), cycles - 1, cycles + 1);
    }
}
