namespace Sim.Models.Virtualization;

/// <summary>A range of device registers in the physical (or guest-physical) address space.</summary>
public readonly record struct MmioRange(ulong Base, ulong Size)
{
    public bool Contains(ulong address) => address >= Base && address < Base + Size;
}
