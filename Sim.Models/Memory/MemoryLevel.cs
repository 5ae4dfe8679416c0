namespace Sim.Models.Memory;

/// <summary>Where an access was served.</summary>
public enum MemoryLevel
{
    L1,
    L2,
    L3,
    Dram,

    /// <summary>Another core's private cache on the same socket (or the last level after snooping it).</summary>
    PeerCache,

    /// <summary>A cache on the other socket, over the interconnect.</summary>
    RemoteCache,

    /// <summary>The other socket's memory, over the interconnect.</summary>
    RemoteDram,
}
