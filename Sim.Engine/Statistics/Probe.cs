using Sim.Engine.Time;

namespace Sim.Engine.Statistics;

/// <summary>
/// A count its owner keeps in a plain field of its own, read when the statistics are collected:
/// for amounts added on a hot path, where even a counter object's indirection costs. A reset
/// (after a warm-up) remembers the value then, and later samples count from it.
/// </summary>
public sealed class Probe : Statistic
{
    private readonly Func<long> _read;
    private long _offset;

    internal Probe(string path, string name, string unit, string description, Func<long> read)
        : base(path, name, unit, description)
    {
        _read = read;
    }

    public long Value => _read() - _offset;

    public override void Collect(Tick now, ICollection<StatSample> into) => into.Add(Sample(Name, Value));

    public override void Reset(Tick now) => _offset = _read();
}
