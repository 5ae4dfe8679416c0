using Sim.Engine.Time;

namespace Sim.Engine.Statistics;

/// <summary>
/// A distribution of non-negative integer values (latencies in picoseconds or cycles, sizes),
/// with exact count, mean, minimum and maximum and percentiles from log-linear buckets.
/// </summary>
/// <remarks>
/// Model: values below 2^<see cref="SubBucketBits"/> (128) each have their own bucket; above,
/// every power of two is split into 64 equal buckets (after HdrHistogram), so a percentile is
/// reported as the upper edge of its bucket: at most 1/64 (1.6%) above the true value, never
/// below it, and clamped to the observed minimum and maximum. Memory grows with the largest
/// value seen (at most about 3,700 buckets), not with the number of samples.
/// Written as <c>name::count</c>, <c>::mean</c>, <c>::min</c>, <c>::max</c>, <c>::p50</c>,
/// <c>::p90</c>, <c>::p95</c>, <c>::p99</c> and <c>::p99_9</c> (nearest-rank percentiles).
/// </remarks>
public sealed class Histogram : Statistic
{
    public const int SubBucketBits = 7;
    private const long ExactLimit = 1L << SubBucketBits;
    private const int HalfSubBuckets = 1 << (SubBucketBits - 1);

    private static readonly (string Name, double Percent)[] ReportedPercentiles =
        [("p1", 1), ("p5", 5), ("p10", 10), ("p25", 25), ("p50", 50), ("p75", 75), ("p90", 90), ("p95", 95), ("p99", 99), ("p99_9", 99.9)];

    private long[] _buckets = new long[ExactLimit];
    private long _count;
    private Int128 _sum;
    private long _min = long.MaxValue;
    private long _max = long.MinValue;

    internal Histogram(string path, string name, string unit, string description)
        : base(path, name, unit, description)
    {
    }

    public long Count => _count;

    public double Mean => _count == 0 ? double.NaN : (double)_sum / _count;

    public long Min => _count == 0 ? 0 : _min;

    public long Max => _count == 0 ? 0 : _max;

    public void Record(long value) => Record(value, 1);

    public void Record(long value, long occurrences)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Histogram '{FullName}' takes non-negative values only.");
        }
        if (occurrences <= 0)
        {
            return;
        }
        int index = BucketIndex(value);
        if (index >= _buckets.Length)
        {
            Array.Resize(ref _buckets, Math.Max(index + 1, _buckets.Length * 2));
        }
        _buckets[index] += occurrences;
        _count += occurrences;
        _sum += (Int128)value * occurrences;
        _min = Math.Min(_min, value);
        _max = Math.Max(_max, value);
    }

    /// <summary>The nearest-rank <paramref name="percent"/>th percentile (upper bucket edge, see remarks); 0 when empty.</summary>
    public long Percentile(double percent)
    {
        if (percent is < 0 or > 100 || double.IsNaN(percent))
        {
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "A percentile lies in [0, 100].");
        }
        if (_count == 0)
        {
            return 0;
        }
        long rank = Math.Max(1, (long)Math.Ceiling(percent / 100.0 * _count));
        long seen = 0;
        for (int i = 0; i < _buckets.Length; i++)
        {
            seen += _buckets[i];
            if (seen >= rank)
            {
                return Math.Clamp(BucketUpperEdge(i), _min, _max);
            }
        }
        return _max;
    }

    public override void Collect(Tick now, ICollection<StatSample> into)
    {
        into.Add(Sample(Name + "::count", _count, "count"));
        into.Add(Sample(Name + "::mean", _count == 0 ? 0 : Mean));
        into.Add(Sample(Name + "::min", Min));
        into.Add(Sample(Name + "::max", Max));
        foreach ((string name, double percent) in ReportedPercentiles)
        {
            into.Add(Sample(Name + "::" + name, Percentile(percent)));
        }
    }

    public override void Reset(Tick now)
    {
        Array.Clear(_buckets);
        _count = 0;
        _sum = 0;
        _min = long.MaxValue;
        _max = long.MinValue;
    }

    internal static int BucketIndex(long value)
    {
        if (value < ExactLimit)
        {
            return (int)value;
        }
        int exponent = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value);
        int group = exponent - SubBucketBits + 1;
        return (int)ExactLimit + ((group - 1) * HalfSubBuckets) + (int)((value >> group) - HalfSubBuckets);
    }

    /// <summary>The largest value that falls into bucket <paramref name="index"/>.</summary>
    internal static long BucketUpperEdge(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }
        int offset = index - (int)ExactLimit;
        int group = (offset / HalfSubBuckets) + 1;
        long lower = (long)((offset % HalfSubBuckets) + HalfSubBuckets) << group;
        return lower + (1L << group) - 1;
    }
}
