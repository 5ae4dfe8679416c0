using System.Numerics;

namespace Sim.Engine.Randomness;

/// <summary>
/// One component's source of random numbers: xoshiro256** 1.0 (Blackman and Vigna, "Scrambled
/// linear pseudorandom number generators", ACM TOMS 2021; reference code at prng.di.unimi.it),
/// period 2^256 - 1. Written here rather than taken from a library so that its output is fixed
/// by this file alone: the same seed gives the same numbers in every version of .NET and of
/// any package, on every platform. Its state is seeded by SplitMix64, as its authors advise.
/// </summary>
public sealed class RandomStream
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A stream seeded directly; components get theirs from <see cref="RandomStreams.For"/>.</summary>
    public RandomStream(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64.Next(ref x);
        _s1 = SplitMix64.Next(ref x);
        _s2 = SplitMix64.Next(ref x);
        _s3 = SplitMix64.Next(ref x);
    }

    /// <summary>A stream with the given raw state, to check the generator against the reference vectors.</summary>
    internal RandomStream(ulong s0, ulong s1, ulong s2, ulong s3) => (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);

    /// <summary>64 uniformly distributed bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A double uniform on [0, 1), with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>An integer uniform on [0, <paramref name="bound"/>), without modulo bias (Lemire, ACM TOMACS 2019).</summary>
    public ulong NextBelow(ulong bound)
    {
        if (bound == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bound), "The bound must be positive.");
        }
        ulong high = Math.BigMul(NextUInt64(), bound, out ulong low);
        if (low < bound)
        {
            ulong threshold = (0 - bound) % bound;
            while (low < threshold)
            {
                high = Math.BigMul(NextUInt64(), bound, out low);
            }
        }
        return high;
    }

    /// <summary>An integer uniform on [<paramref name="min"/>, <paramref name="max"/>], both included.</summary>
    public long NextInRange(long min, long max)
    {
        if (max < min)
        {
            throw new ArgumentOutOfRangeException(nameof(max), $"max ({max}) is below min ({min}).");
        }
        ulong span = (ulong)(max - min);
        ulong offset = span == ulong.MaxValue ? NextUInt64() : NextBelow(span + 1);
        return (long)((ulong)min + offset);
    }
}
