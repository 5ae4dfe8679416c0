using System.Globalization;

namespace Sim.Engine.Time;

/// <summary>
/// A point in (or span of) simulated time: a 64-bit count of picoseconds (after gem5's Tick).
/// 2^64 ps is about 213 days of simulated time, far beyond any run. Integer time means no
/// floating-point rounding ever decides when something happens (DESIGN rule 1).
/// </summary>
public readonly record struct Tick(ulong Picoseconds) : IComparable<Tick>
{
    public const ulong PicosecondsPerNanosecond = 1_000;
    public const ulong PicosecondsPerMicrosecond = 1_000_000;
    public const ulong PicosecondsPerMillisecond = 1_000_000_000;
    public const ulong PicosecondsPerSecond = 1_000_000_000_000;

    public static readonly Tick Zero;
    public static readonly Tick MaxValue = new(ulong.MaxValue);

    public static Tick FromNanoseconds(ulong ns) => new(checked(ns * PicosecondsPerNanosecond));
    public static Tick FromMicroseconds(ulong us) => new(checked(us * PicosecondsPerMicrosecond));
    public static Tick FromMilliseconds(ulong ms) => new(checked(ms * PicosecondsPerMillisecond));
    public static Tick FromSeconds(ulong s) => new(checked(s * PicosecondsPerSecond));

    /// <summary>Seconds as a double, for reports only; never feed it back into timing.</summary>
    public double TotalSeconds => Picoseconds / (double)PicosecondsPerSecond;

    public double TotalMicroseconds => Picoseconds / (double)PicosecondsPerMicrosecond;

    public int CompareTo(Tick other) => Picoseconds.CompareTo(other.Picoseconds);

    public static Tick operator +(Tick a, Tick b) => new(checked(a.Picoseconds + b.Picoseconds));
    public static Tick operator -(Tick a, Tick b) => new(checked(a.Picoseconds - b.Picoseconds));
    public static bool operator <(Tick a, Tick b) => a.Picoseconds < b.Picoseconds;
    public static bool operator >(Tick a, Tick b) => a.Picoseconds > b.Picoseconds;
    public static bool operator <=(Tick a, Tick b) => a.Picoseconds <= b.Picoseconds;
    public static bool operator >=(Tick a, Tick b) => a.Picoseconds >= b.Picoseconds;

    public static Tick Max(Tick a, Tick b) => a >= b ? a : b;
    public static Tick Min(Tick a, Tick b) => a <= b ? a : b;

    public override string ToString() => Picoseconds.ToString(CultureInfo.InvariantCulture) + " ps";
}
