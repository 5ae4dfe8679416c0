using Sim.Models.Memory;

namespace Sim.Models.Tests.Memory;

public class PhysicalMemoryTests
{
    [Fact]
    public void Frames_come_zeroed_above_the_reserved_area_and_are_reused_zeroed()
    {
        var m = new PhysicalMemory(16UL << 20, reservedBytes: 1UL << 20);
        ulong a = m.AllocateFrame();
        Assert.Equal(1UL << 20, a);
        m.WriteUInt64(a + 8, 0xDEAD);
        Assert.Equal(0xDEADUL, m.ReadUInt64(a + 8));
        m.FreeFrame(a);
        ulong b = m.AllocateFrame();
        Assert.Equal(a, b);
        Assert.Equal(0UL, m.ReadUInt64(b + 8));
    }

    [Fact]
    public void Large_frames_are_2MiB_aligned_and_the_gap_stays_usable()
    {
        var m = new PhysicalMemory(16UL << 20);
        ulong small = m.AllocateFrame();
        ulong large = m.AllocateLargeFrame();
        Assert.Equal(0UL, large % (2UL << 20));
        Assert.True(large > small);
        Assert.True(m.AllocateFrame() < large); // from the alignment gap
    }

    [Fact]
    public void Addresses_beyond_memory_and_exhaustion_are_errors()
    {
        var m = new PhysicalMemory(2UL << 20, reservedBytes: (2UL << 20) - 4096);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.ReadUInt64(2UL << 20));
        m.AllocateFrame();
        Assert.Throws<InsufficientMemoryException>(() => m.AllocateFrame());
    }

    [Fact]
    public void A_frame_is_private_until_labelled_keeps_its_label_and_is_private_again_once_freed()
    {
        var m = new PhysicalMemory(16UL << 20);
        ulong a = m.AllocateFrame();
        Assert.Equal(0UL, m.ContentOf(a + 100));
        var heard = new List<(ulong Frame, ulong Content)>();
        m.ContentChanging = (frame, content) => heard.Add((frame, content));
        m.SetContent(a + 100, 0x5EED);
        Assert.Equal(0x5EEDUL, m.ContentOf(a));
        Assert.Equal([(a, 0x5EEDUL)], heard); // told first, with the frame's start
        m.FreeFrame(a);
        Assert.Equal(0UL, m.ContentOf(m.AllocateFrame()));
    }
}

public class PhysicalMemoryFieldTests
{
    [Fact]
    public void Fields_of_one_two_and_four_bytes_read_and_write_in_place_little_endian()
    {
        var memory = new PhysicalMemory(2UL << 20);
        memory.WriteUInt64(0x1000, 0x1122_3344_5566_7788);
        Assert.Equal(0x5566UL, memory.ReadField(0x1002, 2));
        memory.WriteField(0x1004, 4, 0xAABB_CCDD);
        memory.WriteField(0x1001, 1, 0xEE);
        Assert.Equal(0xAABB_CCDD_5566_EE88UL, memory.ReadUInt64(0x1000));
        Assert.Throws<ArgumentException>(() => memory.ReadField(0x1003, 2)); // would straddle its alignment
    }

    [Fact]
    public void Nodes_split_the_frames_in_address_order_and_a_full_node_lends_from_the_next()
    {
        var memory = new PhysicalMemory(8UL << 20);
        memory.SplitIntoNodes(2);
        Assert.Equal(2, memory.Nodes);
        Assert.Equal(0, memory.NodeOf(0));
        Assert.Equal(1, memory.NodeOf(4UL << 20)); // the upper half
        Assert.Throws<InvalidOperationException>(() => memory.SplitIntoNodes(2));
        var fromOne = new List<ulong>();
        while (fromOne.Count < 1024)
        {
            fromOne.Add(memory.AllocateFrame(node: 1));
        }
        Assert.All(fromOne, f => Assert.Equal(1, memory.NodeOf(f))); // node 1's 1,024 frames
        Assert.Equal(0, memory.NodeOf(memory.AllocateFrame(node: 1))); // then node 0's
        memory.FreeFrame(fromOne[5]);
        Assert.Equal(fromOne[5], memory.AllocateFrame(node: 1)); // a frame given back is its node's again
    }
}
