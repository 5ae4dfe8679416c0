namespace Sim.Models.Memory;

/// <summary>Where an access was served.</summary>
public enum MemoryLevel
{
    L1,
    L2,
    L3,
    Dram,
}
