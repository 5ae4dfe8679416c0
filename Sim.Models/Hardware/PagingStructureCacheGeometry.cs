namespace Sim.Models.Hardware;

/// <summary>
/// Sizes of the paging-structure caches of Intel SDM Vol. 3A section 4.10.3: the PML4 cache
/// (keyed by linear address bits 47:39), the PDPTE cache (47:30) and the PDE cache (47:21). A
/// size of 0 means the core has no such cache. Each is fully associative with LRU replacement.
/// </summary>
public sealed record PagingStructureCacheGeometry(int Pml4Entries, int PdptEntries, int PdeEntries)
{
    public static readonly PagingStructureCacheGeometry None = new(0, 0, 0);

    public void Validate()
    {
        if (Pml4Entries < 0 || PdptEntries < 0 || PdeEntries < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(PdeEntries), "Paging-structure cache sizes cannot be negative.");
        }
    }
}
