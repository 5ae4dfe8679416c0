using System.Numerics;
using System.Runtime.InteropServices;
using Sim.Engine.Statistics;
using Sim.Models.Hardware;

namespace Sim.Models.Memory;

/// <summary>
/// Keeps the cores' private caches (L1I, L1D, L2) coherent by invalidation, as the core-valid bits
/// of an inclusive last level do on Nehalem (and a snoop filter does on Skylake-SP): per line,
/// which cores may hold it and which one holds it exclusively (E or M). A read that misses its
/// core's private caches while another core holds the line is answered after a snoop, from that
/// core when it holds the line modified; a write invalidates every other copy first (a read for
/// ownership), and a write that hits a shared copy upgrades it the same way. What each costs is
/// the profile's <see cref="CoherenceTimings"/>: so a line written by two cores in turn costs a
/// transfer each way, a locked instruction on a contended line costs more than on a private one,
/// and a line no other core touches costs nothing extra.
/// </summary>
/// <remarks>
/// Model: the protocol's states are MESIF's, kept per line here rather than per cache (the
/// forward state decides which sharer answers, which costs the same to the requester in this
/// model, so it is not told apart). The bits are conservative, as core-valid bits are: a line a
/// core dropped silently still costs a snoop until an access finds it gone. The directory is
/// inclusive of the sockets' last levels: a line a last level evicts is invalidated in that
/// socket's cores (back-invalidation), which also bounds the directory. A snoop's cost is a
/// latency; the snoop traffic does not occupy the interconnect, and a modified line forwarded to
/// a reader is not also written to memory.
/// </remarks>
public sealed class CoherenceDirectory
{
    /// <summary>A directory tracks cores as the bits of one 64-bit mask.</summary>
    public const int MaxCores = 64;

    private readonly CoherenceTimings _timings;
    private readonly int _llcLatency;
    private readonly List<MemoryPath> _cores = [];
    private readonly List<int> _socketOf = [];
    private readonly ulong[] _socketMasks;
    private readonly Dictionary<ulong, Entry> _lines = [];
    private readonly int _lineShift;
    private readonly Counter _snoops;
    private readonly Counter _invalidations;
    private readonly Counter _modifiedTransfers;
    private readonly Counter _remote;

    public CoherenceDirectory(HardwareProfile profile, int sockets, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(stats);
        _timings = profile.Coherence ?? throw new ArgumentException($"Profile {profile.Name} has no coherence model.", nameof(profile));
        _llcLatency = profile.LastLevel.LatencyCycles;
        _socketMasks = new ulong[sockets];
        _lineShift = BitOperations.Log2((uint)profile.L2.LineBytes);
        _snoops = stats.Counter("snoops", "count", "private-cache misses and upgrades that another core's copy made the last level snoop");
        _invalidations = stats.Counter("invalidations", "count", "copies removed from other cores' private caches by a write");
        _modifiedTransfers = stats.Counter("modified_transfers", "count", "lines forwarded from the core that held them modified");
        _remote = stats.Counter("remote_snoops", "count", "snoops that crossed the socket interconnect");
    }

    /// <summary>Adds core <paramref name="path"/> on <paramref name="socket"/>; returns its index.</summary>
    public int Add(MemoryPath path, int socket)
    {
        if (_cores.Count == MaxCores)
        {
            throw new InvalidOperationException($"A coherence directory tracks at most {MaxCores} cores.");
        }
        _cores.Add(path);
        _socketOf.Add(socket);
        _socketMasks[socket] |= 1UL << (_cores.Count - 1);
        return _cores.Count - 1;
    }

    /// <summary>
    /// Core <paramref name="core"/> missed its private caches on <paramref name="address"/>: records
    /// it as a holder (the only one, for a write) and returns what another core's copy makes the
    /// access cost, with where it was served; -1 when no other core may hold it and the last
    /// level or memory answers as usual.
    /// </summary>
    public int OnMiss(int core, ulong address, bool write, out MemoryLevel level)
    {
        ref Entry e = ref Get(address);
        ulong me = 1UL << core;
        ulong others = e.Sharers & ~me;
        level = MemoryLevel.L3;
        int latency = -1;
        if (others != 0)
        {
            latency = Snoop(core, address, others, e.Owner, out level);
            if (write)
            {
                Invalidate(address, others);
            }
            else if (e.Owner >= 0 && e.Owner != core)
            {
                _cores[e.Owner].Clean(address); // M or E becomes S: the modified data goes to the last level
            }
        }
        Hold(ref e, core, write || others == 0);
        return latency;
    }

    /// <summary>
    /// Core <paramref name="core"/> writes <paramref name="address"/>, which its private caches
    /// hold: nothing to do when it holds the line exclusively; otherwise a read for ownership that
    /// invalidates the other copies, whose cost is returned.
    /// </summary>
    public int OnWriteHit(int core, ulong address)
    {
        ref Entry e = ref Get(address);
        if (e.Owner == core)
        {
            return 0;
        }
        ulong others = e.Sharers & ~(1UL << core);
        int latency = _llcLatency; // a shared copy asks the last level for ownership even when no other core holds it any more
        if (others != 0)
        {
            latency = Snoop(core, address, others, e.Owner, out _);
            Invalidate(address, others);
        }
        Hold(ref e, core, exclusive: true);
        return latency;
    }

    /// <summary>A prefetcher brought <paramref name="address"/> into core <paramref name="core"/>'s private caches: it holds it as a reader (the snoop's time is hidden in the prefetch).</summary>
    public void OnPrefetch(int core, ulong address) => OnMiss(core, address, write: false, out _);

    /// <summary>
    /// The last level of <paramref name="socket"/> evicted <paramref name="address"/>: the socket's
    /// cores lose their copies too, as an inclusive last level's back-invalidation takes them.
    /// </summary>
    public void OnLastLevelEviction(int socket, ulong address)
    {
        ulong line = address >> _lineShift;
        ref Entry e = ref CollectionsMarshal.GetValueRefOrNullRef(_lines, line);
        if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref e))
        {
            return;
        }
        ulong here = e.Sharers & _socketMasks[socket];
        if (here == 0)
        {
            return;
        }
        Invalidate(address, here);
        e.Sharers &= ~here;
        if (e.Owner >= 0 && (here & (1UL << e.Owner)) != 0)
        {
            e.Owner = -1;
        }
        if (e.Sharers == 0)
        {
            _lines.Remove(line);
        }
    }

    /// <summary>Lines some core may hold (for tests: the directory is bounded by the last levels).</summary>
    public int TrackedLines => _lines.Count;

    private ref Entry Get(ulong address)
    {
        ref Entry e = ref CollectionsMarshal.GetValueRefOrAddDefault(_lines, address >> _lineShift, out bool exists);
        if (!exists)
        {
            e.Owner = -1;
        }
        return ref e;
    }

    private static void Hold(ref Entry e, int core, bool exclusive)
    {
        ulong me = 1UL << core;
        if (exclusive)
        {
            (e.Sharers, e.Owner) = (me, core);
            return;
        }
        e.Sharers |= me;
        e.Owner = -1;
    }

    /// <summary>What answering <paramref name="core"/> costs when <paramref name="others"/> may hold the line: the owner's transfer if it holds it modified, else a snoop, on this socket or across.</summary>
    private int Snoop(int core, ulong address, ulong others, int owner, out MemoryLevel level)
    {
        _snoops.Increment();
        int socket = _socketOf[core];
        if (owner >= 0 && owner != core && _cores[owner].HoldsDirty(address))
        {
            _modifiedTransfers.Increment();
            return Across(socket, _socketOf[owner], _timings.ModifiedTransferCycles, out level);
        }
        bool remoteOnly = (others & _socketMasks[socket]) == 0;
        return Across(socket, remoteOnly ? -1 : socket, _timings.SnoopCycles, out level);
    }

    private int Across(int socket, int holderSocket, int local, out MemoryLevel level)
    {
        if (holderSocket == socket)
        {
            level = MemoryLevel.PeerCache;
            return local;
        }
        _remote.Increment();
        level = MemoryLevel.RemoteCache;
        return _timings.RemoteCacheCycles;
    }

    private void Invalidate(ulong address, ulong cores)
    {
        for (ulong rest = cores; rest != 0; rest &= rest - 1)
        {
            _cores[BitOperations.TrailingZeroCount(rest)].Invalidate(address);
            _invalidations.Increment();
        }
    }

    /// <summary>The cores that may hold a line (core-valid bits) and the one holding it exclusively, or -1.</summary>
    private struct Entry
    {
        public ulong Sharers;
        public int Owner;
    }
}
