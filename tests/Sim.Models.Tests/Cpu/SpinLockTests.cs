using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Cpu;

public class SpinLockTests
{
    private const ulong Lock = 0xFFFF_8000_0020_0000;
    private const int Rounds = 200, Inside = 100, Outside = 100;

    /// <summary><paramref name="cores"/> Nehalem cores each take and release one lock <see cref="Rounds"/> times, with work inside and outside.</summary>
    private static (Simulator Sim, Machine Machine, ulong Word) Contend(int cores)
    {
        var sim = new Simulator(1);
        var machine = new Machine(sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { Cores = cores }, _ => new BareHost());
        AddressSpaceBuilder space = machine.NewAddressSpace();
        ulong frame = machine.Memory.AllocateFrame();
        space.Map4K(Lock, frame, PageEntry.Writable);
        Op[] loop = [.. Enumerable.Range(0, Rounds).SelectMany(_ => new[] { Op.SpinLock(Lock), Op.Alu(Inside), Op.SpinUnlock(Lock), Op.Alu(Outside) })];
        foreach (Core core in machine.Cores)
        {
            core.Mmu.LoadCr3(space.Pml4);
            core.Start(new OpSequence(loop), cpl: 0);
        }
        sim.Run(Tick.MaxValue);
        return (sim, machine, frame);
    }

    private static double Stat(Simulator sim, string path, string name) => sim.Stats.Snapshot(sim.Now).Single(s => s.Path == path && s.Statistic == name).Value;

    [Fact]
    public void An_uncontended_lock_is_taken_at_once_and_its_word_counts_every_ticket()
    {
        (Simulator sim, Machine machine, ulong word) = Contend(1);
        ulong value = machine.Memory.ReadUInt64(word);
        Assert.Equal((ulong)Rounds, value >> 32);         // tickets given
        Assert.Equal((ulong)Rounds, value & 0xFFFF_FFFF); // tickets served: free
        Assert.Equal(Rounds, Stat(sim, "host.cpu0", "lock_acquisitions"));
        Assert.Equal(0, Stat(sim, "host.cpu0", "lock_contended"));
        Assert.Equal(Inside + 1, Stat(sim, "host.cpu0", "lock_hold::mean"), 0.5); // the section and the unlock's store (an L1 hit, one cycle)
    }

    [Fact]
    public void Contending_cores_wait_for_each_other_and_hold_the_lock_one_at_a_time()
    {
        (Simulator sim, Machine machine, ulong word) = Contend(4);
        ulong value = machine.Memory.ReadUInt64(word);
        Assert.Equal(4UL * Rounds, value >> 32);
        Assert.Equal(4UL * Rounds, value & 0xFFFF_FFFF);
        double contended = Enumerable.Range(0, 4).Sum(c => Stat(sim, $"host.cpu{c}", "lock_contended"));
        Assert.True(contended > Rounds, $"only {contended} of {4 * Rounds} acquisitions found the lock held");
        // Mutual exclusion: the critical sections ran one after another, so the run lasts at least all of them.
        long elapsed = machine.Cores.Max(c => (long)c.CyclesElapsed);
        Assert.True(elapsed >= 4L * Rounds * Inside, $"{elapsed} cycles for {4 * Rounds} sections of {Inside}");
        Assert.True(Stat(sim, "host.cpu1", "lock_wait::mean") > Inside, "a waiter waits about as long as the others' sections");
        // The lock's line moves between the cores: each acquisition after another core's finds it modified elsewhere.
        Assert.True(Stat(sim, "host.coherence", "modified_transfers") >= 2 * Rounds);
    }
}
