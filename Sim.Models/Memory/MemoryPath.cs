using Sim.Engine.Statistics;
using Sim.Models.Hardware;

namespace Sim.Models.Memory;

/// <summary>
/// One core's way to memory: its private L1 caches and L2, its socket's shared last level (if
/// any), other cores' caches through the <see cref="CoherenceDirectory"/>, and DRAM through the
/// home node's memory controller (<see cref="MemorySystem"/>). <see cref="Access"/> returns the load-to-use latency of the level that held the line
/// and fills the levels above it; page-walk references come here too, as data reads, so a walk
/// costs what its references cost through the caches. A stream prefetcher (where the profile
/// has one) watches the L2's demand accesses and fills lines ahead of them; every line from
/// memory, demanded or prefetched, and every dirty line written back from the last level occupies
/// the socket's memory channels (a <see cref="LineChannel"/> shared by the socket's cores) for its
/// transfer time at the profile's bandwidth, so a demand access waits behind prefetches and other
/// cores' lines, and a prefetched line that is demanded before it arrives costs the rest of its
/// wait.
/// </summary>
public sealed class MemoryPath
{
    private readonly Cache? _l1i;
    private readonly Cache _l1d;
    private readonly Cache _l2;
    private readonly Cache? _l3;
    private readonly MemorySystem _system;
    private readonly int _socket;
    private readonly CoherenceDirectory? _directory;
    private readonly int _core; // this core's index in the directory
    private readonly int _remoteDramExtra;
    private readonly int _l1iLatency;
    private readonly int _l1dLatency;
    private readonly int _l2Latency;
    private readonly int _l3Latency;
    private readonly int _dramLatency;
    private readonly VectorCounter<MemoryLevel> _servedBy;
    private readonly Counter _cycles;
    private readonly StreamPrefetcher? _prefetcher;
    private readonly Counter _prefetches;
    private const ulong LinesPerPage = 64;
    private readonly ArrivalTable _l2Arrivals = new(); // lines the L2 streamer asked for

    // The L1 next-line (DCU) prefetcher and the lines it brought into the L1D.
    private readonly bool _nextLinePrefetch;
    private readonly ArrivalTable _l1Arrivals = new();
    private ulong _lastDataLine = ulong.MaxValue;

    /// <param name="profile">The hardware profile giving geometries and latencies.</param>
    /// <param name="stats">The core's statistics group; caches register under it as l1i, l1d and l2.</param>
    /// <param name="system">What the machine's cores share: the socket's last level and memory controller, the directory.</param>
    /// <param name="socket">The socket the core sits on.</param>
    internal MemoryPath(HardwareProfile profile, StatGroup stats, MemorySystem system, int socket)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(system);
        _l1i = profile.L1Instruction is null ? null : new Cache(profile.L1Instruction, stats.Child("l1i"));
        _l1d = new Cache(profile.L1Data, stats.Child("l1d"));
        _l2 = new Cache(profile.L2, stats.Child("l2"));
        _system = system;
        _socket = socket;
        _l3 = system.LastLevelOf(socket);
        _directory = system.Directory;
        _core = _directory?.Add(this, socket) ?? 0;
        _l1iLatency = profile.L1Instruction?.LatencyCycles ?? profile.L1Data.LatencyCycles;
        _l1dLatency = profile.L1Data.LatencyCycles;
        _l2Latency = profile.L2.LatencyCycles;
        _l3Latency = profile.L3?.LatencyCycles ?? 0;
        _dramLatency = profile.LastLevel.LatencyCycles + profile.DramLatencyCycles;
        _remoteDramExtra = profile.Coherence?.RemoteDramExtraCycles ?? 0;
        StatGroup memory = stats.Child("memory");
        _servedBy = memory.VectorCounter<MemoryLevel>("served_by", "accesses", "accesses by the level that held the line");
        _cycles = memory.Counter("latency_cycles", "cycles", "load-to-use cycles of all accesses");
        _prefetches = memory.Counter("prefetches", "lines", "lines the stream prefetcher brought into the L2");
        _prefetcher = profile.Prefetcher is null ? null : new StreamPrefetcher(profile.Prefetcher);
        _nextLinePrefetch = profile.L1NextLinePrefetch;
        _l1d.WroteBack = address =>
        {
            if (!_l2.MarkDirty(address))
            {
                WriteBelowL2(address); // the L2 no longer holds it: on to the level below
            }
        };
        _l2.WroteBack = _l3 is null ? system.LeftDirty : WriteBelowL2; // an L2 that is the last level writes back to memory as an L3 does
    }

    /// <summary>A dirty line leaves this core's L2 (or its L1 for a line the L2 has dropped): the socket's last level takes it modified, or, with none or without the line, memory does.</summary>
    private void WriteBelowL2(ulong physicalAddress)
    {
        if (_l3 is null || !_l3.MarkDirty(physicalAddress))
        {
            _system.TakeWriteback(_socket, physicalAddress, Now);
        }
    }

    /// <summary>The core's clock, in cycles, set before each access so that memory-channel occupancy and prefetch arrivals can be reckoned.</summary>
    public ulong Now { get; set; }

    public Cache L1Data => _l1d;

    public Cache L2 => _l2;

    /// <summary>Performs one access to <paramref name="physicalAddress"/>; returns its latency in core cycles.</summary>
    public int Access(ulong physicalAddress, MemoryAccessKind kind)
    {
        bool write = kind == MemoryAccessKind.Write;
        (Cache first, int firstLatency) = kind == MemoryAccessKind.Fetch && _l1i is not null ? (_l1i, _l1iLatency) : (_l1d, _l1dLatency);
        MemoryLevel level;
        int latency;
        ulong line = physicalAddress / (ulong)_l2.Geometry.LineBytes;
        bool nextLine = _nextLinePrefetch && kind != MemoryAccessKind.Fetch && line != _lastDataLine;
        if (first.Access(physicalAddress, write))
        {
            (level, latency) = (MemoryLevel.L1, firstLatency);
            if (nextLine && _l1Arrivals.TryTake(line, out ulong arrival))
            {
                latency += arrival > Now ? (int)(arrival - Now) : 0; // the prefetched line is still on its way
                PrefetchIntoL1(line + 1); // the stream goes on
            }
            if (write && _directory is not null)
            {
                latency += _directory.OnWriteHit(_core, physicalAddress); // a shared copy must be made exclusive first
            }
        }
        else
        {
            if (_l2.Access(physicalAddress, write))
            {
                (level, latency) = (MemoryLevel.L2, _l2Latency + ArrivalWait(line));
                if (write && _directory is not null)
                {
                    latency += _directory.OnWriteHit(_core, physicalAddress);
                }
            }
            else
            {
                (level, latency) = FromBelow(physicalAddress, write);
            }
            Prefetch(line);
            if (nextLine && line % LinesPerPage != 0 && _l1d.Contains((line - 1) * (ulong)_l1d.Geometry.LineBytes))
            {
                PrefetchIntoL1(line + 1); // an ascending access to recently loaded data
            }
        }
        _system.WriteBackEvicted(_socket, Now); // dirty lines the fills pushed out of the last level go to memory over the same channels
        if (kind != MemoryAccessKind.Fetch)
        {
            _lastDataLine = line;
        }
        _servedBy.Increment(level);
        _cycles.Add(latency);
        return latency;
    }

    /// <summary>Whether this core's private caches hold <paramref name="physicalAddress"/> modified.</summary>
    public bool HoldsDirty(ulong physicalAddress) => _l1d.IsDirty(physicalAddress) || _l2.IsDirty(physicalAddress);

    /// <summary>Another core writes <paramref name="physicalAddress"/>: this core's copies go.</summary>
    internal void Invalidate(ulong physicalAddress)
    {
        _l1i?.Invalidate(physicalAddress);
        _l1d.Invalidate(physicalAddress);
        _l2.Invalidate(physicalAddress);
    }

    /// <summary>Another core reads <paramref name="physicalAddress"/>, which this core holds modified: the data goes to the last level and this core's copy stays, clean.</summary>
    internal void Clean(ulong physicalAddress)
    {
        if (_l1d.Clean(physicalAddress) | _l2.Clean(physicalAddress))
        {
            _l3?.MarkDirty(physicalAddress);
        }
    }

    /// <summary>A line that missed the private caches: from another core's cache, the last level, or memory.</summary>
    private (MemoryLevel Level, int Latency) FromBelow(ulong physicalAddress, bool write)
    {
        int peer = -1;
        MemoryLevel peerLevel = MemoryLevel.L3;
        if (_directory is not null)
        {
            peer = _directory.OnMiss(_core, physicalAddress, write, out peerLevel);
        }
        bool inLastLevel = _l3 is not null && _l3.Access(physicalAddress, write); // filled on a miss: the last level is inclusive of the cores it serves
        if (peer >= 0)
        {
            return (peerLevel, peer);
        }
        if (inLastLevel)
        {
            return (MemoryLevel.L3, _l3Latency);
        }
        int wait = (int)(LineFromMemory(physicalAddress, out bool remote) - Now);
        return remote ? (MemoryLevel.RemoteDram, wait) : (MemoryLevel.Dram, wait);
    }

    /// <summary>A line of <paramref name="physicalAddress"/> from memory, asked for now: the cycle it arrives, and whether it came from another socket's memory.</summary>
    private ulong LineFromMemory(ulong physicalAddress, out bool remote) =>
        _system.TakeLine(_socket, physicalAddress, Now, out remote) + (ulong)_dramLatency + (remote ? (ulong)_remoteDramExtra : 0);

    /// <summary>For a line the prefetcher asked for: the cycles still to wait for it; 0 once it has arrived.</summary>
    private int ArrivalWait(ulong line) =>
        _l2Arrivals.TryTake(line, out ulong arrival) && arrival > Now ? (int)(arrival - Now) : 0;

    /// <summary>The DCU prefetcher brings <paramref name="line"/> into the L1D from wherever it is, within the page.</summary>
    private void PrefetchIntoL1(ulong line)
    {
        ulong address = line * (ulong)_l1d.Geometry.LineBytes;
        if (line % LinesPerPage == 0 || !_l1d.Fill(address))
        {
            return; // the next page, or already in the L1
        }
        ulong ready;
        if (!_l2.Fill(address))
        {
            ready = Now + (ulong)(_l2Latency + ArrivalWait(line)); // in the L2 (or on its way there)
        }
        else
        {
            _directory?.OnPrefetch(_core, address);
            ready = _l3 is not null && !_l3.Fill(address) ? Now + (ulong)_l3Latency : LineFromMemory(address, out _);
        }
        Prefetch(line); // the L2 streamer sees the L1 prefetcher's requests as it sees demand ones
        _l1Arrivals.Record(line, ready);
        _prefetches.Increment();
    }

    private void Prefetch(ulong line)
    {
        if (_prefetcher is null)
        {
            return;
        }
        (ulong first, ulong last) = _prefetcher.OnDemand(line);
        ulong bytes = (ulong)_l2.Geometry.LineBytes;
        for (ulong l = first; l <= last; l++)
        {
            if (!_l2.Fill(l * bytes))
            {
                continue; // already there
            }
            _directory?.OnPrefetch(_core, l * bytes);
            bool inLastLevel = _l3 is not null && !_l3.Fill(l * bytes);
            _l2Arrivals.Record(l, inLastLevel ? Now + (ulong)_l3Latency : LineFromMemory(l * bytes, out _)); // a line the last level holds comes from there, not from memory
            _prefetches.Increment();
        }
    }
}
