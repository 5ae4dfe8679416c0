using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Kernel;

public class MinimalKernelTests
{
    private const ulong User = 0x0000_0000_4000_0000;

    private static (Simulator Sim, Machine Machine, MinimalKernel Kernel, AddressSpaceBuilder Space) Boot()
    {
        var sim = new Simulator(1);
        MinimalKernel kernel = null!;
        var machine = new Machine(sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = 64UL << 20 }, m => kernel = new MinimalKernel(m));
        AddressSpaceBuilder space = kernel.NewProcessSpace();
        machine.Cores[0].Mmu.LoadCr3(space.Pml4);
        return (sim, machine, kernel, space);
    }

    [Fact]
    public void A_prepared_page_is_fixed_up_on_its_first_fault_and_the_access_retried()
    {
        var (sim, machine, _, space) = Boot();
        ulong frame = machine.Memory.AllocateFrame();
        space.Map4K(User, frame, PageEntry.Writable | PageEntry.User, present: false);
        Core core = machine.Cores[0];
        core.Start(new OpSequence(Op.Load(User + 8), Op.Load(User + 16)));
        sim.Run(Tick.MaxValue);
        Assert.NotEqual(0UL, machine.Memory.ReadUInt64(space.LeafEntryAddress(User)!.Value) & PageEntry.Present);
        var faults = sim.Stats.Snapshot(sim.Now).Single(s => s.Path == "host.cpu0" && s.Statistic == "exceptions::PageFault").Value;
        Assert.Equal(1, faults);
        Assert.Equal(frame + 16, core.Mmu.Translate(User + 16, Models.Memory.MemoryAccessKind.Read, true).PhysicalAddress);
    }

    [Fact]
    public void A_true_fault_is_skipped_and_the_kernel_sees_physical_memory_through_the_direct_map()
    {
        var (sim, machine, _, _) = Boot();
        Core core = machine.Cores[0];
        core.Start(new OpSequence(Op.Load(User), Op.Alu(1)));
        sim.Run(Tick.MaxValue);
        Assert.Equal(1, sim.Stats.Snapshot(sim.Now).Single(s => s.Path == "host.cpu0" && s.Statistic == "exceptions::PageFault").Value);
        TranslationResult direct = core.Mmu.Translate(MinimalKernel.DirectMapBase + 0x12_3450, Models.Memory.MemoryAccessKind.Read, user: false);
        Assert.True(direct.Succeeded);
        Assert.Equal(0x12_3450UL, direct.PhysicalAddress);
        Assert.Equal(PageFaultErrorCode.Protection | PageFaultErrorCode.User,
            core.Mmu.Translate(MinimalKernel.DirectMapBase, Models.Memory.MemoryAccessKind.Read, user: true).ErrorCode);
    }
}
