using Sim.Models.Kernel;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Kernel;

public class PerCpuPagesTests
{
    private const ulong Frame = PhysicalMemory.FrameBytes;

    private static PhysicalMemory TwoNodes()
    {
        var memory = new PhysicalMemory(64UL << 20);
        memory.SplitIntoNodes(2);
        return memory;
    }

    [Fact]
    public void An_empty_list_takes_a_batch_of_neighbouring_frames_and_hands_them_out_in_order()
    {
        PhysicalMemory memory = TwoNodes();
        var one = new PerCpuPages(memory);
        var other = new PerCpuPages(memory);
        ulong first = one.Take(node: 0, out bool refilled);
        Assert.True(refilled);
        Assert.Equal(PerCpuPages.Batch - 1, one.Count);
        ulong theirs = other.Take(node: 0, out _); // another CPU faulting meanwhile takes a batch of its own
        for (ulong i = 1; i < PerCpuPages.Batch; i++)
        {
            Assert.Equal(first + (i * Frame), one.Take(0, out refilled)); // the next frame, not the other CPU's interleaved one
            Assert.False(refilled);
        }
        Assert.Equal(first + (PerCpuPages.Batch * Frame), theirs);
        one.Take(0, out refilled);
        Assert.True(refilled); // the batch used up: the next comes from the zone
    }

    [Fact]
    public void Pages_come_from_the_node_asked_for_and_go_back_to_their_own_node_s_list()
    {
        PhysicalMemory memory = TwoNodes();
        var pages = new PerCpuPages(memory);
        ulong remote = pages.Take(node: 1, out _);
        Assert.Equal(1, memory.NodeOf(remote));
        ulong local = pages.Take(node: 0, out _);
        Assert.Equal(0, memory.NodeOf(local));
        memory.WriteUInt64(remote, 0xDEAD);
        Assert.False(pages.Give(remote));
        Assert.Equal(remote, pages.Take(node: 1, out _)); // the hottest page of node 1's list: the one just freed
        Assert.Equal(0UL, memory.ReadUInt64(remote));     // and it reads as zeros again
        Assert.NotEqual(remote, pages.Take(node: 0, out _));
    }

    [Fact]
    public void A_list_over_its_high_mark_drains_a_batch_of_its_coldest_pages_to_the_zone()
    {
        var memory = new PhysicalMemory(64UL << 20);
        var pages = new PerCpuPages(memory);
        var taken = new List<ulong>();
        for (int i = 0; i <= PerCpuPages.High; i++)
        {
            taken.Add(memory.AllocateFrame());
        }
        ulong used = memory.FramesInUse;
        bool drained = false;
        foreach (ulong f in taken)
        {
            Assert.False(drained);
            drained = pages.Give(f);
        }
        Assert.True(drained); // the 187th
        Assert.Equal(PerCpuPages.High + 1 - PerCpuPages.Batch, pages.Count);
        Assert.Equal(used - PerCpuPages.Batch, memory.FramesInUse);
        Assert.Equal(taken[^1], pages.Take(0, out _)); // the last freed is kept, the first freed went back
        Assert.Equal(taken[PerCpuPages.Batch - 1], memory.AllocateFrame()); // the zone's own free list, last in first out
    }

    [Fact]
    public void An_allocation_takes_what_memory_has_left_and_is_refused_only_when_nothing_is()
    {
        var memory = new PhysicalMemory(4UL << 20);
        var pages = new PerCpuPages(memory);
        int got = 0;
        while (true)
        {
            try
            {
                pages.Take(0, out _);
                got++;
            }
            catch (InsufficientMemoryException)
            {
                break;
            }
        }
        var plain = new PhysicalMemory(4UL << 20);
        int free = 0;
        while (plain.TryAllocateFrame(0, out _))
        {
            free++;
        }
        Assert.NotEqual(0, free % PerCpuPages.Batch); // so the last batch came short
        Assert.Equal(free, got); // every free frame
        Assert.Equal(0, pages.Count);
    }
}
