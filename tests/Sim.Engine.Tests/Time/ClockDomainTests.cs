using Sim.Engine.Randomness;
using Sim.Engine.Time;

namespace Sim.Engine.Tests.Time;

public class ClockDomainTests
{
    [Theory]
    [InlineData(3_800_000_000UL)] // Pentium 4 672
    [InlineData(2_660_000_000UL)] // Core 2 Duo
    [InlineData(2_930_000_000UL)] // Xeon X5570
    [InlineData(1_000_000_000UL)]
    public void Edges_round_up_to_the_next_picosecond_and_invert_exactly(ulong hz)
    {
        var clock = new ClockDomain("cpu", hz);
        var random = new RandomStream(hz);
        for (int i = 0; i < 10_000; i++)
        {
            ulong n = random.NextBelow(1UL << 50);
            Tick edge = clock.EdgeTick(new Cycles(n));
            // The exact edge n * 10^12 / f lies in (edge - 1 ps, edge].
            UInt128 exactTimesF = (UInt128)n * Tick.PicosecondsPerSecond;
            Assert.True((UInt128)edge.Picoseconds * hz >= exactTimesF);
            Assert.True((UInt128)(edge.Picoseconds - 1) * hz < exactTimesF || n == 0);
            Assert.Equal(n, clock.CyclesAt(edge).Count);
            Assert.Equal(n, clock.CycleAtOrAfter(edge).Count);
        }
    }

    [Fact]
    public void A_second_of_cycles_is_exactly_a_second_whatever_the_period()
    {
        var p4 = new ClockDomain("p4", 3_800_000_000);
        Assert.Equal(new Tick(264), p4.EdgeTick(new Cycles(1))); // 263.157... ps rounds up
        Assert.Equal(Tick.FromSeconds(1), p4.EdgeTick(new Cycles(3_800_000_000)));
        var core2 = new ClockDomain("core2", 2_660_000_000);
        Assert.Equal(Tick.FromSeconds(7), core2.EdgeTick(new Cycles(7 * 2_660_000_000UL)));
    }

    [Fact]
    public void Adding_durations_step_by_step_lands_on_the_same_edge_as_adding_them_at_once()
    {
        var clock = new ClockDomain("cpu", 3_800_000_000);
        Tick t = new(12_345);
        Tick stepwise = t;
        for (int i = 0; i < 1_000; i++)
        {
            stepwise = clock.After(stepwise, new Cycles(7));
        }
        Assert.Equal(clock.After(t, new Cycles(7_000)), stepwise);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1_000_000_000_000UL)]
    public void Impossible_frequencies_are_refused(ulong hz) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClockDomain("x", hz));
}
