namespace Sim.Models.Paging;

/// <summary>
/// Hears a page walk reference by reference, for the lecture page's two-dimensional walk grid
/// (docs/lecture.md): the walker's levels as the SDM numbers them from the root, 3 (PML4) down to
/// 0 (the page table). A nested walk's EPT walks come between: each translates the guest-physical
/// address of the guest entry read next, or, after the last guest entry, the final page's.
/// </summary>
public interface IWalkTracer
{
    /// <summary>A walk (<paramref name="ept"/>: one EPT translation) starts at <paramref name="level"/>: the paging-structure caches held the levels above it (3: they held none).</summary>
    void Starts(bool ept, int level);

    /// <summary>The walk read its entry at <paramref name="level"/>, at host-physical <paramref name="address"/>, in <paramref name="cycles"/>.</summary>
    void Reads(bool ept, int level, ulong address, int cycles);
}
