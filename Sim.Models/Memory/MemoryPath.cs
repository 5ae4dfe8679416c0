using Sim.Engine.Statistics;
using Sim.Models.Hardware;

namespace Sim.Models.Memory;

/// <summary>
/// One core's way to memory: its private L1 caches and L2, the shared last level (if any) and
/// DRAM. <see cref="Access"/> returns the load-to-use latency of the level that held the line
/// and fills the levels above it; page-walk references come here too, as data reads, so a walk
/// costs what its references cost through the caches. A stream prefetcher (where the profile
/// has one) watches the L2's demand accesses and fills lines ahead of them; every line from
/// memory, demanded or prefetched, and every dirty line written back from the last level occupies
/// the memory channel for its transfer time at the profile's bandwidth, so a demand access waits behind prefetches and a prefetched line that is
/// demanded before it arrives costs the rest of its wait.
/// </summary>
public sealed class MemoryPath
{
    private readonly Cache? _l1i;
    private readonly Cache _l1d;
    private readonly Cache _l2;
    private readonly Cache? _l3;
    private readonly int _l1iLatency;
    private readonly int _l1dLatency;
    private readonly int _l2Latency;
    private readonly int _l3Latency;
    private readonly int _dramLatency;
    private readonly VectorCounter<MemoryLevel> _servedBy;
    private readonly Counter _cycles;
    private readonly StreamPrefetcher? _prefetcher;
    private readonly Counter _prefetches;
    private readonly ulong _lineTransferMilliCycles;
    private const ulong LinesPerPage = 64;
    private readonly ArrivalTable _l2Arrivals = new(); // lines the L2 streamer asked for
    private ulong _channelFreeMilliCycles;

    // The L1 next-line (DCU) prefetcher and the lines it brought into the L1D.
    private readonly bool _nextLinePrefetch;
    private readonly ArrivalTable _l1Arrivals = new();
    private ulong _lastDataLine = ulong.MaxValue;

    /// <param name="profile">The hardware profile giving geometries and latencies.</param>
    /// <param name="stats">The core's statistics group; caches register under it as l1i, l1d and l2.</param>
    /// <param name="sharedL3">The package's last-level cache, shared by its cores; null when the profile has none.</param>
    public MemoryPath(HardwareProfile profile, StatGroup stats, Cache? sharedL3)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(stats);
        if ((profile.L3 is null) != (sharedL3 is null))
        {
            throw new ArgumentException($"Profile {profile.Name} {(profile.L3 is null ? "has no" : "has an")} L3; pass {(profile.L3 is null ? "none" : "the shared one")}.", nameof(sharedL3));
        }
        _l1i = profile.L1Instruction is null ? null : new Cache(profile.L1Instruction, stats.Child("l1i"));
        _l1d = new Cache(profile.L1Data, stats.Child("l1d"));
        _l2 = new Cache(profile.L2, stats.Child("l2"));
        _l3 = sharedL3;
        _l1iLatency = profile.L1Instruction?.LatencyCycles ?? profile.L1Data.LatencyCycles;
        _l1dLatency = profile.L1Data.LatencyCycles;
        _l2Latency = profile.L2.LatencyCycles;
        _l3Latency = profile.L3?.LatencyCycles ?? 0;
        _dramLatency = profile.LastLevel.LatencyCycles + profile.DramLatencyCycles;
        StatGroup memory = stats.Child("memory");
        _servedBy = memory.VectorCounter<MemoryLevel>("served_by", "accesses", "accesses by the level that held the line");
        _cycles = memory.Counter("latency_cycles", "cycles", "load-to-use cycles of all accesses");
        _prefetches = memory.Counter("prefetches", "lines", "lines the stream prefetcher brought into the L2");
        _prefetcher = profile.Prefetcher is null ? null : new StreamPrefetcher(profile.Prefetcher);
        _nextLinePrefetch = profile.L1NextLinePrefetch;
        _lineTransferMilliCycles = (ulong)Math.Round(profile.L2.LineBytes / profile.DramBytesPerSecond * profile.FrequencyHz * 1000);
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
        }
        else
        {
            long writebacks = LastLevel.Writebacks;
            if (_l2.Access(physicalAddress, write))
            {
                (level, latency) = (MemoryLevel.L2, _l2Latency + ArrivalWait(line));
            }
            else if (_l3 is not null && _l3.Access(physicalAddress, write))
            {
                (level, latency) = (MemoryLevel.L3, _l3Latency);
            }
            else
            {
                (level, latency) = (MemoryLevel.Dram, _dramLatency + (int)(TakeChannel() - Now));
            }
            Prefetch(line);
            for (long w = LastLevel.Writebacks - writebacks; w > 0; w--)
            {
                TakeChannel(); // a dirty line leaving the last level goes to memory over the same channel
            }
            if (nextLine && line % LinesPerPage != 0 && _l1d.Contains((line - 1) * (ulong)_l1d.Geometry.LineBytes))
            {
                PrefetchIntoL1(line + 1); // an ascending access to recently loaded data
            }
        }
        if (kind != MemoryAccessKind.Fetch)
        {
            _lastDataLine = line;
        }
        _servedBy.Increment(level);
        _cycles.Add(latency);
        return latency;
    }

    private Cache LastLevel => _l3 ?? _l2;

    /// <summary>The memory channel carries one more line: when its transfer starts, in core cycles.</summary>
    private ulong TakeChannel()
    {
        ulong start = Math.Max(Now * 1000, _channelFreeMilliCycles);
        _channelFreeMilliCycles = start + _lineTransferMilliCycles;
        return start / 1000;
    }

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
        else if (_l3 is not null && !_l3.Fill(address))
        {
            ready = Now + (ulong)_l3Latency;
        }
        else
        {
            ready = TakeChannel() + (ulong)_dramLatency;
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
            _l3?.Fill(l * bytes);
            _l2Arrivals.Record(l, TakeChannel() + (ulong)_dramLatency);
            _prefetches.Increment();
        }
    }
}
