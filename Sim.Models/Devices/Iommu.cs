using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Devices;

/// <summary>
/// The IOMMU (Intel VT-d) between an assigned device and memory: the device's DMA addresses are
/// the guest's physical addresses, translated to host-physical ones through the domain's I/O page
/// tables, with an IOTLB caching the translations. The tables are real: a 4-level tree in host
/// memory in the second-level format, which is EPT's (VT-d specification, 3.7 and 9.8; the model
/// builds it with <see cref="Ept"/>), filled as VFIO maps the guest's memory for the device
/// (vfio_iommu_type1's vfio_dma_do_map into intel_iommu_map): all of it when the VM starts where
/// its memory is reserved whole, a page at a time as DMA first reaches it where memory is backed
/// on touch. A miss walks the tree: it reads each level's entry from host memory, one memory
/// reference per level at the DRAM latency (the walk reads memory, not the cores' caches), and
/// takes the page's host address from the leaf.
/// </summary>
/// <remarks>
/// Model: a fully associative IOTLB of <see cref="DefaultEntries"/> 4 KiB translations, least
/// recently used replaced (VT-d IOTLB sizes are not published: assumed); 4 KiB mappings only (the
/// profiles do not say whether their IOMMU has second-level superpages, CAP.SLLPS); no context
/// cache and no paging-structure caches in the IOMMU (VT-d 6.2), so every miss reads four
/// entries; no invalidation (the guest's memory stays mapped while the device is assigned).
/// </remarks>
public sealed class Iommu
{
    public const int DefaultEntries = 64;
    private const int Levels = 4;

    private readonly PhysicalMemory _host;
    private readonly Ept _tables;
    private readonly Func<ulong, ulong> _hostAddress;
    private readonly Tick _referenceLatency;
    private readonly int _capacity;
    private readonly LinkedList<ulong> _recency = [];
    private readonly Dictionary<ulong, LinkedListNode<ulong>> _entries = [];
    private readonly Counter _hits;
    private readonly Counter _misses;
    private readonly Counter _walkReads;

    /// <param name="host">The host memory the tables live in.</param>
    /// <param name="reserved">Where the guest's memory is reserved whole, its host base and size (mapped at once); null where it is backed on touch.</param>
    /// <param name="hostAddress">The host-physical address of a guest-physical one (backing it if it is not yet), for pages mapped as DMA first reaches them.</param>
    public Iommu(PhysicalMemory host, (ulong HostBase, ulong Bytes)? reserved, Func<ulong, ulong> hostAddress, Tick referenceLatency, StatGroup stats, int entries = DefaultEntries)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(hostAddress);
        ArgumentNullException.ThrowIfNull(stats);
        if (entries < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(entries), entries, "The IOTLB holds at least one translation.");
        }
        (_host, _hostAddress, _referenceLatency, _capacity) = (host, hostAddress, referenceLatency, entries);
        _tables = new Ept(host);
        if (reserved is { } whole)
        {
            _tables.Map(0, whole.HostBase, whole.Bytes, largePages: false);
        }
        _hits = stats.Counter("iotlb_hits", "count", "DMA addresses the IOTLB translated");
        _misses = stats.Counter("iotlb_misses", "count", "DMA addresses that needed a walk of the IOMMU's tables");
        _walkReads = stats.Counter("walk_reads", "count", "entries of the I/O page tables the IOMMU read from memory on IOTLB misses");
        stats.Probe("table_bytes", "bytes", "the host frames of the domain's I/O page tables", () => (long)_tables.TableFrames * PhysicalMemory.FrameBytes);
    }

    /// <summary>The time translating the DMA address <paramref name="guestPhysical"/> adds: nothing on an IOTLB hit, a walk of the tables on a miss.</summary>
    public Tick Translate(ulong guestPhysical)
    {
        ulong page = guestPhysical >> PageEntry.SmallPageShift;
        if (_entries.TryGetValue(page, out LinkedListNode<ulong>? node))
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
            _hits.Increment();
            return default;
        }
        _misses.Increment();
        Walk(guestPhysical);
        if (_entries.Count == _capacity)
        {
            _entries.Remove(_recency.Last!.Value);
            _recency.RemoveLast();
        }
        _entries[page] = _recency.AddFirst(page);
        return new Tick(_referenceLatency.Picoseconds * Levels);
    }

    /// <summary>The walk of a miss: each level's entry read down to the leaf, which holds the page's host address (a page DMA reaches for the first time is mapped first, as VFIO pins and maps it).</summary>
    private void Walk(ulong guestPhysical)
    {
        ulong gpa = guestPhysical & ~((ulong)PhysicalMemory.FrameBytes - 1);
        if (_tables.ExistingEntryAddress(gpa) is not { } leaf || !EptEntry.IsPresent(_host.ReadUInt64(leaf)))
        {
            _tables.MapPage(gpa, _hostAddress(gpa), writable: true);
        }
        _walkReads.Add(Levels);
    }
}
