using Sim.Models.Cpu;

namespace Sim.Models.Tests.Cpu;

public class StoreBufferTests
{
    [Fact]
    public void Misses_hide_behind_the_core_until_the_buffer_is_full()
    {
        var b = new StoreBuffer(entries: 2);
        Assert.Equal(0UL, b.Add(now: 0, missCycles: 100));   // drains at 100
        Assert.Equal(0UL, b.Add(now: 1, missCycles: 100));   // in order: drains at 200
        Assert.Equal(99UL, b.Add(now: 1, missCycles: 100));  // full: waits for the first (at 100); drains at 300
        Assert.Equal(0UL, b.Add(now: 250, missCycles: 0));   // a hit with room: no wait
        Assert.Equal(50UL, b.Drain(now: 250));                // everything done at 300
        Assert.Equal(0UL, b.Drain(now: 250));
    }

    [Fact]
    public void Fill_buffers_let_misses_overlap()
    {
        var serial = new StoreBuffer(entries: 64, fillBuffers: 1);
        var parallel = new StoreBuffer(entries: 64, fillBuffers: 8);
        for (ulong i = 0; i < 16; i++)
        {
            serial.Add(i, 100);
            parallel.Add(i, 100);
        }
        Assert.Equal(1585UL, serial.Drain(15));   // 16 misses one after another: done at 1,600
        Assert.Equal(207UL - 15, parallel.Drain(15)); // two waves of eight, the second starting as the first completes: done at 207
    }

    [Fact]
    public void A_buffer_needs_an_entry_and_a_fill_buffer()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StoreBuffer(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StoreBuffer(4, 0));
    }
}
