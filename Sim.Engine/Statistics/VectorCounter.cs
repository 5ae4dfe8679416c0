using System.Runtime.CompilerServices;
using Sim.Engine.Time;

namespace Sim.Engine.Statistics;

/// <summary>
/// One counter per member of an enum (cycles by category, exits by reason), indexed by the enum
/// value without a lookup. Written as <c>name::member</c> rows plus <c>name::total</c>.
/// </summary>
/// <typeparam name="TEnum">An int-backed enum whose values are exactly 0..n-1.</typeparam>
public sealed class VectorCounter<TEnum> : Statistic
    where TEnum : struct, Enum
{
    private static string[]? s_memberNames;
    private readonly string[] _memberNames;
    private readonly long[] _values;

    internal VectorCounter(string path, string name, string unit, string description)
        : base(path, name, unit, description)
    {
        _memberNames = s_memberNames ??= ValidateAndGetNames();
        _values = new long[_memberNames.Length];
    }

    public long this[TEnum member] => _values[Index(member)];

    public long Total
    {
        get
        {
            long sum = 0;
            foreach (long v in _values)
            {
                sum += v;
            }
            return sum;
        }
    }

    public void Increment(TEnum member) => _values[Index(member)]++;

    public void Add(TEnum member, long amount) => _values[Index(member)] += amount;

    public override void Collect(Tick now, ICollection<StatSample> into)
    {
        for (int i = 0; i < _values.Length; i++)
        {
            into.Add(Sample(Name + "::" + _memberNames[i], _values[i]));
        }
        into.Add(Sample(Name + "::total", Total));
    }

    public override void Reset(Tick now) => Array.Clear(_values);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Index(TEnum member) => Unsafe.As<TEnum, int>(ref member);

    private static string[] ValidateAndGetNames()
    {
        if (Enum.GetUnderlyingType(typeof(TEnum)) != typeof(int))
        {
            throw new InvalidOperationException($"{typeof(TEnum).Name} must be an int-backed enum to index a vector counter.");
        }
        var values = Enum.GetValues<TEnum>();
        var names = new string[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            if (Index(values[i]) != i)
            {
                throw new InvalidOperationException($"{typeof(TEnum).Name} must have the values 0..{values.Length - 1} without gaps to index a vector counter.");
            }
            names[i] = values[i].ToString();
        }
        return names;
    }
}
