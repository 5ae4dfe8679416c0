namespace Sim.Models.Memory;

/// <summary>What an access does: a data read or write, or an instruction fetch.</summary>
public enum MemoryAccessKind
{
    Read,
    Write,
    Fetch,
}
