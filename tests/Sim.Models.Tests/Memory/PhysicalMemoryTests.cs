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
}
