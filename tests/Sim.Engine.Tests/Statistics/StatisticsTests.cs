using Sim.Engine.Randomness;
using Sim.Engine.Statistics;
using Sim.Engine.Time;

namespace Sim.Engine.Tests.Statistics;

public class StatisticsTests
{
    public enum Category
    {
        User,
        Kernel,
        Idle,
    }

    public enum Gapped
    {
        A = 0,
        B = 2,
    }

    [Fact]
    public void A_probe_reads_its_owners_field_and_counts_from_the_last_reset()
    {
        var registry = new StatRegistry();
        long owned = 0;
        Probe probe = registry.Group("host.cpu0").Probe("user_mode_cycles", "cycles", "user time", () => owned);
        owned = 500;
        Assert.Equal([new StatSample("host.cpu0", "user_mode_cycles", 500, "cycles")], registry.Snapshot(Tick.Zero));
        registry.ResetAll(Tick.Zero);
        owned = 530;
        Assert.Equal(30, probe.Value);
        Assert.Throws<ArgumentNullException>(() => registry.Group("host.cpu1").Probe("x", "count", "", null!));
    }

    [Fact]
    public void Counters_and_vectors_write_named_rows_with_units()
    {
        var registry = new StatRegistry();
        StatGroup cpu = registry.Group("host.cpu0");
        Counter retired = cpu.Counter("instructions", "count", "instructions retired");
        VectorCounter<Category> cycles = cpu.VectorCounter<Category>("cycles", "cycles", "cycles by category");
        retired.Add(41);
        retired.Increment();
        cycles.Add(Category.User, 70);
        cycles.Add(Category.Kernel, 20);
        cycles.Increment(Category.Idle);

        var rows = registry.Snapshot(Tick.Zero);
        Assert.Equal(
            [
                new StatSample("host.cpu0", "instructions", 42, "count"),
                new StatSample("host.cpu0", "cycles::User", 70, "cycles"),
                new StatSample("host.cpu0", "cycles::Kernel", 20, "cycles"),
                new StatSample("host.cpu0", "cycles::Idle", 1, "cycles"),
                new StatSample("host.cpu0", "cycles::total", 91, "cycles"),
            ],
            rows);
        Assert.Equal(20, cycles[Category.Kernel]);
    }

    public enum TooLarge
    {
        Small = 1,
        Huge = 1 << 20,
    }

    [Fact]
    public void A_vector_follows_an_enum_numbered_with_gaps_as_the_manuals_number_them()
    {
        var registry = new StatRegistry();
        var v = registry.Group("x").VectorCounter<Gapped>("v", "count", "");
        v.Increment(Gapped.B);
        v.Add(Gapped.A, 2);
        Assert.Equal(
            ["v::A", "v::B", "v::total"],
            registry.Snapshot(Tick.Zero).Select(s => s.Statistic));
        Assert.Equal(1, v[Gapped.B]);
        Assert.Equal(3, v.Total);
        Assert.Throws<InvalidOperationException>(() => registry.Group("y").VectorCounter<TooLarge>("v", "count", ""));
    }

    [Fact]
    public void Snapshot_orders_by_path_then_registration()
    {
        var registry = new StatRegistry();
        registry.Group("host.nic0").Counter("b", "count", "");
        registry.Group("host.cpu0").Counter("z", "count", "");
        registry.Group("host.cpu0").Counter("a", "count", "");
        var rows = registry.Snapshot(Tick.Zero);
        Assert.Equal(["host.cpu0.z", "host.cpu0.a", "host.nic0.b"], rows.Select(r => r.Path + "." + r.Statistic));
    }

    [Fact]
    public void Registration_errors_are_clear()
    {
        var sim = new Simulator(1);
        StatGroup group = sim.Stats.Group("host.cpu0");
        group.Counter("misses", "count", "");
        Assert.Throws<InvalidOperationException>(() => group.Counter("misses", "count", ""));
        Assert.Throws<ArgumentException>(() => sim.Stats.Group("host..cpu0"));
        Assert.Throws<ArgumentException>(() => group.Counter("bad name", "count", ""));
        sim.Run(Tick.FromNanoseconds(1));
        var frozen = Assert.Throws<InvalidOperationException>(() => group.Child("dtlb").Counter("hits", "count", ""));
        Assert.Contains("after the run started", frozen.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Histogram_is_exact_below_128_and_within_one_64th_above()
    {
        var h = new StatRegistry().Group("x").Histogram("latency", "ps", "");
        for (int v = 1; v <= 100; v++)
        {
            h.Record(v);
        }
        Assert.Equal(50, h.Percentile(50));
        Assert.Equal(99, h.Percentile(99));
        Assert.Equal(100, h.Percentile(100));
        Assert.Equal(1, h.Percentile(0));
        Assert.Equal(50.5, h.Mean, 12);

        var random = new RandomStream(3);
        var big = new StatRegistry().Group("y").Histogram("latency", "ps", "");
        var values = new List<long>();
        for (int i = 0; i < 50_000; i++)
        {
            long v = (long)Math.Exp(random.NextDouble() * 40); // spans 1 .. 2e17
            values.Add(v);
            big.Record(v);
        }
        values.Sort();
        foreach (double p in new[] { 1.0, 50, 90, 99, 99.9 })
        {
            long exact = values[(int)Math.Ceiling(p / 100 * values.Count) - 1];
            long reported = big.Percentile(p);
            Assert.True(reported >= exact && reported <= exact + (exact / 64) + 1, $"p{p}: exact {exact}, reported {reported}");
        }
        Assert.Equal(values[0], big.Min);
        Assert.Equal(values[^1], big.Max);
        Assert.Equal(values.Select(v => (double)v).Average(), big.Mean, big.Mean * 1e-12);
    }

    [Fact]
    public void Histogram_buckets_tile_the_value_range()
    {
        var random = new RandomStream(4);
        for (int i = 0; i < 100_000; i++)
        {
            long v = (long)(random.NextUInt64() >> (1 + (int)random.NextBelow(63)));
            int index = Histogram.BucketIndex(v);
            Assert.True(v <= Histogram.BucketUpperEdge(index));
            Assert.True(index == 0 || v > Histogram.BucketUpperEdge(index - 1));
        }
        Assert.True(Histogram.BucketIndex(long.MaxValue) < 4_000);
    }

    [Fact]
    public void Histogram_refuses_negative_values_and_resets()
    {
        var h = new StatRegistry().Group("x").Histogram("latency", "ps", "");
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Record(-1));
        h.Record(5, 3);
        Assert.Equal(3, h.Count);
        h.Reset(Tick.Zero);
        Assert.Equal(0, h.Count);
        Assert.Equal(0, h.Percentile(50));
    }

    [Fact]
    public void Time_average_weights_each_level_by_how_long_it_held()
    {
        var q = new StatRegistry().Group("x").TimeAverage("queue", "requests", "");
        q.Set(new Tick(0), 0);
        q.Set(new Tick(10), 2);   // 0 for 10 ps
        q.Set(new Tick(40), 1);   // 2 for 30 ps
        Assert.Equal(((2 * 30) + (1 * 20)) / 60.0, q.Average(new Tick(60)), 12);
        q.Reset(new Tick(60));
        Assert.Equal(1.0, q.Average(new Tick(100)), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => q.Set(new Tick(50), 3));
    }

    [Fact]
    public void Replication_summary_uses_the_student_t_interval()
    {
        var s = ReplicationSummary.Of([1.0, 2, 3, 4, 5]);
        Assert.Equal(3.0, s.Mean, 12);
        Assert.Equal(Math.Sqrt(2.5), s.StandardDeviation, 12);
        // t(0.975, 4) = 2.7764451 (standard tables).
        Assert.Equal(2.7764451 * Math.Sqrt(2.5) / Math.Sqrt(5), s.HalfWidth, 6);
        Assert.True(double.IsNaN(ReplicationSummary.Of([4.0]).HalfWidth));
        Assert.Throws<ArgumentException>(() => ReplicationSummary.Of([]));
    }
}
