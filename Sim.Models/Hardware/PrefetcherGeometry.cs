namespace Sim.Models.Hardware;

/// <summary>
/// A hardware stream prefetcher into the L2: how many ascending streams (one per 4 KiB page) it
/// tracks, and how many lines ahead of the demand accesses it runs. It never crosses a 4 KiB page.
/// </summary>
public sealed record PrefetcherGeometry(int Streams, int DistanceLines)
{
    public void Validate()
    {
        if (Streams < 1 || DistanceLines < 1 || DistanceLines > 63)
        {
            throw new ArgumentOutOfRangeException(nameof(Streams), $"A prefetcher tracks at least one stream and runs 1 to 63 lines ahead within a page (got {Streams} streams, {DistanceLines} lines).");
        }
    }
}
