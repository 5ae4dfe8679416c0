namespace Sim.Models.Virtualization;

/// <summary>
/// The nodes a search reads in a balanced binary search tree over sorted items: the middle one,
/// then the middle of the half the key lies in, down to the key's place. The host kernel's trees
/// (the CFS timeline, the hrtimer timerqueue) are red-black trees, whose depth is at most twice
/// this; a perfectly balanced tree is assumed.
/// </summary>
internal static class SearchPath
{
    /// <summary>The items read, in order; <paramref name="keyBefore"/> says whether the key sorts before an item.</summary>
    public static IEnumerable<T> Of<T>(IReadOnlyList<T> sorted, Func<T, bool> keyBefore)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        ArgumentNullException.ThrowIfNull(keyBefore);
        int lo = 0, hi = sorted.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            yield return sorted[mid];
            (lo, hi) = keyBefore(sorted[mid]) ? (lo, mid - 1) : (mid + 1, hi);
        }
    }
}
