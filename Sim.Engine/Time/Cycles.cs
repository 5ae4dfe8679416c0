using System.Globalization;

namespace Sim.Engine.Time;

/// <summary>
/// A count of clock cycles of some <see cref="ClockDomain"/>. A separate type from
/// <see cref="Tick"/> so that cycles and picoseconds can never be added by mistake (gem5).
/// </summary>
public readonly record struct Cycles(ulong Count) : IComparable<Cycles>
{
    public static readonly Cycles Zero;

    public int CompareTo(Cycles other) => Count.CompareTo(other.Count);

    public static Cycles operator +(Cycles a, Cycles b) => new(checked(a.Count + b.Count));
    public static Cycles operator -(Cycles a, Cycles b) => new(checked(a.Count - b.Count));
    public static bool operator <(Cycles a, Cycles b) => a.Count < b.Count;
    public static bool operator >(Cycles a, Cycles b) => a.Count > b.Count;
    public static bool operator <=(Cycles a, Cycles b) => a.Count <= b.Count;
    public static bool operator >=(Cycles a, Cycles b) => a.Count >= b.Count;

    public override string ToString() => Count.ToString(CultureInfo.InvariantCulture) + " cycles";
}
