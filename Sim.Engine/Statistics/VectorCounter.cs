using System.Runtime.CompilerServices;
using Sim.Engine.Time;

namespace Sim.Engine.Statistics;

/// <summary>
/// One counter per member of an enum (cycles by category, exits by reason), indexed through a
/// small table from enum value to slot, so enums numbered as the manuals number them (exit
/// reasons, exception vectors) work as well as dense ones. Written as <c>name::member</c> rows,
/// in value order, plus <c>name::total</c>.
/// </summary>
/// <typeparam name="TEnum">An int-backed enum whose values lie in [0, 4096).</typeparam>
public sealed class VectorCounter<TEnum> : Statistic
    where TEnum : struct, Enum
{
    private const int MaxValue = 4096;
    // Computed once per enum, on first use, by whichever thread gets there first: a Lazy, because the
    // runs of a sweep or a tour build machines in parallel, and a nullable tuple assigned with ??=
    // can be seen half-written by another thread (a NullReferenceException seen in CI).
    private static readonly Lazy<(string[] Names, int[] SlotOf)> s_layout = new(Layout, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly string[] _memberNames;
    private readonly int[] _slotOf;
    private readonly long[] _values;

    internal VectorCounter(string path, string name, string unit, string description)
        : base(path, name, unit, description)
    {
        (_memberNames, _slotOf) = s_layout.Value;
        _values = new long[_memberNames.Length];
    }

    public long this[TEnum member] => _values[Slot(member)];

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

    public void Increment(TEnum member) => _values[Slot(member)]++;

    public void Add(TEnum member, long amount) => _values[Slot(member)] += amount;

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
    private int Slot(TEnum member) => _slotOf[Unsafe.As<TEnum, int>(ref member)];

    private static (string[] Names, int[] SlotOf) Layout()
    {
        if (Enum.GetUnderlyingType(typeof(TEnum)) != typeof(int))
        {
            throw new InvalidOperationException($"{typeof(TEnum).Name} must be an int-backed enum to index a vector counter.");
        }
        TEnum[] values = Enum.GetValues<TEnum>(); // sorted by value
        var names = new string[values.Length];
        int max = 0;
        for (int i = 0; i < values.Length; i++)
        {
            int v = Unsafe.As<TEnum, int>(ref values[i]);
            if (v is < 0 or >= MaxValue)
            {
                throw new InvalidOperationException($"{typeof(TEnum).Name}.{values[i]} = {v} lies outside [0, {MaxValue}) and cannot index a vector counter.");
            }
            max = Math.Max(max, v);
            names[i] = values[i].ToString();
        }
        var slotOf = new int[max + 1];
        Array.Fill(slotOf, -1);
        for (int i = 0; i < values.Length; i++)
        {
            slotOf[Unsafe.As<TEnum, int>(ref values[i])] = i;
        }
        return (names, slotOf);
    }
}
