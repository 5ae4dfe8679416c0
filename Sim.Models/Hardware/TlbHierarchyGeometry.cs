namespace Sim.Models.Hardware;

/// <summary>
/// The TLBs of one core: first-level instruction and data TLBs, each with an array for 4 KiB and
/// one for 2 MiB pages, and a second-level TLB (STLB) shared by instructions and data.
/// </summary>
/// <param name="InstructionSmall">The first-level ITLB for 4 KiB pages.</param>
/// <param name="InstructionLarge">The first-level ITLB for 2 MiB pages.</param>
/// <param name="DataSmall">The first-level DTLB for 4 KiB pages.</param>
/// <param name="DataLarge">The first-level DTLB for 2 MiB pages.</param>
/// <param name="SecondLevel">The STLB, or null where the core has none (the Pentium 4).</param>
/// <param name="SecondLevelHoldsLargePages">Whether the STLB also caches 2 MiB translations (Skylake onward).</param>
/// <param name="SecondLevelHitCycles">Extra cycles of an access that misses the first level and hits the STLB.</param>
public sealed record TlbHierarchyGeometry(
    TlbGeometry InstructionSmall,
    TlbGeometry InstructionLarge,
    TlbGeometry DataSmall,
    TlbGeometry DataLarge,
    TlbGeometry? SecondLevel,
    bool SecondLevelHoldsLargePages,
    int SecondLevelHitCycles)
{
    public void Validate()
    {
        InstructionSmall.Validate("ITLB 4K");
        InstructionLarge.Validate("ITLB 2M");
        DataSmall.Validate("DTLB 4K");
        DataLarge.Validate("DTLB 2M");
        SecondLevel?.Validate("STLB");
        if (SecondLevelHitCycles < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SecondLevelHitCycles), "The STLB hit latency cannot be negative.");
        }
    }
}
