using Sim.Engine.Statistics;
using Sim.Models.Hardware;

namespace Sim.Models.Memory;

/// <summary>
/// One core's way to memory: its private L1 caches and L2, the shared last level (if any) and
/// DRAM. <see cref="Access"/> returns the load-to-use latency of the level that held the line
/// and fills the levels above it; page-walk references come here too, as data reads, so a walk
/// costs what its references cost through the caches.
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
    }

    public Cache L1Data => _l1d;

    public Cache L2 => _l2;

    /// <summary>Performs one access to <paramref name="physicalAddress"/>; returns its latency in core cycles.</summary>
    public int Access(ulong physicalAddress, MemoryAccessKind kind)
    {
        bool write = kind == MemoryAccessKind.Write;
        (Cache first, int firstLatency) = kind == MemoryAccessKind.Fetch && _l1i is not null ? (_l1i, _l1iLatency) : (_l1d, _l1dLatency);
        MemoryLevel level;
        int latency;
        if (first.Access(physicalAddress, write))
        {
            (level, latency) = (MemoryLevel.L1, firstLatency);
        }
        else if (_l2.Access(physicalAddress, write))
        {
            (level, latency) = (MemoryLevel.L2, _l2Latency);
        }
        else if (_l3 is not null && _l3.Access(physicalAddress, write))
        {
            (level, latency) = (MemoryLevel.L3, _l3Latency);
        }
        else
        {
            (level, latency) = (MemoryLevel.Dram, _dramLatency);
        }
        _servedBy.Increment(level);
        _cycles.Add(latency);
        return latency;
    }
}
