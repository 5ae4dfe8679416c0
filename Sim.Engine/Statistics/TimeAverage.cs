using Sim.Engine.Time;

namespace Sim.Engine.Statistics;

/// <summary>
/// The time-weighted average of a level that changes at discrete instants (a queue length, the
/// number of busy CPUs): each value counts for as long as it held. Written as <c>name::mean</c>
/// (over the span from the start or last reset to the collection time) and <c>name::max</c>.
/// </summary>
public sealed class TimeAverage : Statistic
{
    private double _area; // value x picoseconds, accumulated up to _lastChange
    private double _current;
    private double _max;
    private ulong _start;
    private ulong _lastChange;

    internal TimeAverage(string path, string name, string unit, string description)
        : base(path, name, unit, description)
    {
    }

    public double Current => _current;

    /// <summary>Records that the level becomes <paramref name="value"/> at <paramref name="now"/>.</summary>
    public void Set(Tick now, double value)
    {
        ulong t = now.Picoseconds;
        if (t < _lastChange)
        {
            throw new ArgumentOutOfRangeException(nameof(now), now, $"Time average '{FullName}' was updated out of time order.");
        }
        _area += _current * (t - _lastChange);
        _lastChange = t;
        _current = value;
        _max = Math.Max(_max, value);
    }

    /// <summary>The average over [start or last reset, <paramref name="now"/>]; the current value if no time has passed.</summary>
    public double Average(Tick now)
    {
        ulong t = Math.Max(now.Picoseconds, _lastChange);
        ulong span = t - _start;
        return span == 0 ? _current : (_area + (_current * (t - _lastChange))) / span;
    }

    public override void Collect(Tick now, ICollection<StatSample> into)
    {
        into.Add(Sample(Name + "::mean", Average(now)));
        into.Add(Sample(Name + "::max", _max));
    }

    public override void Reset(Tick now)
    {
        _area = 0;
        _start = now.Picoseconds;
        _lastChange = now.Picoseconds;
        _max = _current;
    }
}
