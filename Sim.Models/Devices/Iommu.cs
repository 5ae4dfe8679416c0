using Sim.Engine.Statistics;
using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// The IOMMU (Intel VT-d) between an assigned device and memory: the device's DMA addresses are
/// the guest's physical addresses, translated to host-physical ones through the IOMMU's page
/// tables, with an IOTLB caching the translations. A miss walks the tables: one memory reference
/// per level, each at the DRAM latency (the walk reads memory, not the cores' caches).
/// </summary>
/// <remarks>
/// Model: a fully associative IOTLB of <see cref="DefaultEntries"/> 4 KiB translations, least
/// recently used replaced (VT-d IOTLB sizes are not published: assumed); four-level tables; no
/// page-walk caches in the IOMMU; the guest's memory stays mapped (no faults).
/// </remarks>
public sealed class Iommu
{
    public const int DefaultEntries = 64;
    private const int Levels = 4;

    private readonly Tick _referenceLatency;
    private readonly int _capacity;
    private readonly LinkedList<ulong> _recency = [];
    private readonly Dictionary<ulong, LinkedListNode<ulong>> _entries = [];
    private readonly Counter _hits;
    private readonly Counter _misses;

    public Iommu(Tick referenceLatency, StatGroup stats, int entries = DefaultEntries)
    {
        ArgumentNullException.ThrowIfNull(stats);
        if (entries < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(entries), entries, "The IOTLB holds at least one translation.");
        }
        (_referenceLatency, _capacity) = (referenceLatency, entries);
        _hits = stats.Counter("iotlb_hits", "count", "DMA addresses the IOTLB translated");
        _misses = stats.Counter("iotlb_misses", "count", "DMA addresses that needed a walk of the IOMMU's tables");
    }

    /// <summary>The time translating the DMA address <paramref name="guestPhysical"/> adds: nothing on an IOTLB hit, a walk on a miss.</summary>
    public Tick Translate(ulong guestPhysical)
    {
        ulong page = guestPhysical >> 12;
        if (_entries.TryGetValue(page, out LinkedListNode<ulong>? node))
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
            _hits.Increment();
            return default;
        }
        _misses.Increment();
        if (_entries.Count == _capacity)
        {
            _entries.Remove(_recency.Last!.Value);
            _recency.RemoveLast();
        }
        _entries[page] = _recency.AddFirst(page);
        return new Tick(_referenceLatency.Picoseconds * Levels);
    }
}
