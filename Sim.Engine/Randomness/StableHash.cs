using System.Text;

namespace Sim.Engine.Randomness;

/// <summary>
/// A hash of text that is the same in every process, version and platform, unlike
/// <c>string.GetHashCode</c>, which .NET randomizes per process. FNV-1a, 64-bit, over the
/// UTF-8 bytes (offset basis 14695981039346656037, prime 1099511628211; Fowler, Noll and Vo,
/// IETF draft-eastlake-fnv). Not cryptographic; used to name random streams.
/// </summary>
public static class StableHash
{
    private const ulong OffsetBasis = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    public static ulong Fnv1a64(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ulong hash = OffsetBasis;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= Prime;
        }
        return hash;
    }

    /// <summary>One 64-bit value from two, order-sensitive (SplitMix64's finalizer over their mix): for naming a thing by its parts.</summary>
    public static ulong Combine(ulong first, ulong second) => SplitMix64.Mix(SplitMix64.Mix(first) ^ second);
}
