using Sim.Engine.Statistics;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Tests.Paging;

/// <summary>One core's memory system on a profile, with an address space to map pages in.</summary>
internal sealed class MemoryRig
{
    public MemoryRig(HardwareProfile profile)
    {
        Profile = profile;
        Stats = new StatRegistry();
        Memory = new PhysicalMemory(64UL << 20);
        Path = MemorySystem.SingleCore(profile, Stats.Group("host")).AddCore(Stats.Group("host.cpu0"));
        Space = new AddressSpaceBuilder(Memory);
        Mmu = new Mmu(profile, Memory, Path, Stats.Group("host.cpu0"));
        Mmu.LoadCr3(Space.Pml4);
    }

    public HardwareProfile Profile { get; }

    public StatRegistry Stats { get; }

    public PhysicalMemory Memory { get; }

    public MemoryPath Path { get; }

    public AddressSpaceBuilder Space { get; }

    public Mmu Mmu { get; }

    /// <summary>Maps <paramref name="pages"/> 4 KiB pages from <paramref name="linear"/> to fresh frames; returns the frames.</summary>
    public ulong[] Map(ulong linear, int pages, ulong flags)
    {
        var frames = new ulong[pages];
        for (int i = 0; i < pages; i++)
        {
            frames[i] = Memory.AllocateFrame();
            Space.Map4K(linear + ((ulong)i * 4096), frames[i], flags);
        }
        return frames;
    }

    public ulong Leaf(ulong linear) => Memory.ReadUInt64(Space.LeafEntryAddress(linear)!.Value);
}
