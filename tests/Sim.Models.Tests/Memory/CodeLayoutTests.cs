using Sim.Models.Memory;

namespace Sim.Models.Tests.Memory;

/// <summary>Code laid out by instruction counts, in a run of its own size or in a fixed image.</summary>
public class CodeLayoutTests
{
    private enum Routine
    {
        Short,
        Long,
    }

    [Fact]
    public void Routines_follow_one_another_by_their_lines_and_a_fixed_image_keeps_what_comes_after_in_place()
    {
        var memory = new PhysicalMemory(64UL << 20);
        var exact = new CodeLayout<Routine>(memory, r => r == Routine.Short ? 20 : 1000);
        Assert.Equal(exact.AddressOf(Routine.Short) + (2 * 64), exact.AddressOf(Routine.Long)); // 20 instructions of 4 bytes: two lines
        Assert.Equal((2 + 63) * 64UL, exact.SizeBytes);

        // Two images of one reserved size, one with a routine grown tenfold: the next allocation
        // lies the same distance after each.
        ulong NextAfter(int longInstructions)
        {
            var m = new PhysicalMemory(64UL << 20);
            var image = new CodeLayout<Routine>(m, r => r == Routine.Short ? 20 : longInstructions, reservedBytes: 64UL << 10);
            return m.AllocateContiguous(4096) - image.AddressOf(Routine.Short);
        }
        Assert.Equal(NextAfter(1000), NextAfter(10_000));
        Assert.Equal(64UL << 10, NextAfter(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CodeLayout<Routine>(memory, _ => 100_000, reservedBytes: 64UL << 10));
    }
}
