namespace Sim.Engine.Randomness;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): turns one 64-bit value into a sequence of
/// well-mixed ones. Used to seed xoshiro state and to mix a scenario seed with a path hash.
/// </summary>
internal static class SplitMix64
{
    public static ulong Next(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Mix(ulong value)
    {
        ulong state = value;
        return Next(ref state);
    }
}
