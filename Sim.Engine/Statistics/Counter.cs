using Sim.Engine.Time;

namespace Sim.Engine.Statistics;

/// <summary>A count of occurrences or a sum of integer amounts (events, cycles, bytes).</summary>
public sealed class Counter : Statistic
{
    private long _value;

    internal Counter(string path, string name, string unit, string description)
        : base(path, name, unit, description)
    {
    }

    public long Value => _value;

    public void Increment() => _value++;

    public void Add(long amount) => _value += amount;

    public override void Collect(Tick now, ICollection<StatSample> into) => into.Add(Sample(Name, _value));

    public override void Reset(Tick now) => _value = 0;
}
