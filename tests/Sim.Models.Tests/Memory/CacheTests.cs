using Sim.Engine.Statistics;
using Sim.Models.Hardware;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Memory;

public class CacheTests
{
    private static Cache TwoWay() => new(new CacheGeometry("t", 4 * 64 * 2, 2, 64, 1), new StatRegistry().Group("c")); // 4 sets x 2 ways

    [Fact]
    public void Lines_hit_after_a_miss_and_the_least_recently_used_way_is_evicted()
    {
        Cache c = TwoWay();
        const ulong SetStride = 4 * 64; // addresses one set-stride apart share a set
        Assert.False(c.Access(0, write: false));               // A miss
        Assert.True(c.Access(8, write: false));                // same line: hit
        Assert.False(c.Access(SetStride, write: false));       // B miss, set full
        Assert.True(c.Access(0, write: false));                // A hit: B is now least recent
        Assert.False(c.Access(2 * SetStride, write: false));   // C miss evicts B
        Assert.True(c.Contains(0));
        Assert.False(c.Contains(SetStride));
        Assert.True(c.Contains(2 * SetStride));
        Assert.Equal(2, c.Hits);
        Assert.Equal(3, c.Misses);
    }

    [Fact]
    public void Evicting_a_dirty_line_counts_a_writeback()
    {
        var stats = new StatRegistry();
        var c = new Cache(new CacheGeometry("t", 64, 1, 64, 1), stats.Group("c")); // one line
        c.Access(0, write: true);
        c.Access(64, write: false); // evicts the dirty line
        c.Access(128, write: false); // evicts a clean line
        Assert.Equal(1, stats.Snapshot(default).Single(s => s.Statistic == "writebacks").Value);
    }

    [Fact]
    public void A_malformed_geometry_is_refused() =>
        Assert.Throws<ArgumentException>(() => new Cache(new CacheGeometry("bad", 1000, 3, 64, 1), new StatRegistry().Group("c")));
}
