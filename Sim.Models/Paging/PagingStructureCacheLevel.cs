namespace Sim.Models.Paging;

/// <summary>The three paging-structure caches, by the entry they hold.</summary>
public enum PagingStructureCacheLevel
{
    Pde,
    Pdpte,
    Pml4e,
}
