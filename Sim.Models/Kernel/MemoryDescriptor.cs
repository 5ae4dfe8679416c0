using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>
/// An address space as Linux's mm_struct holds it: the page tables, the memory regions (VMAs),
/// where the next mmap goes, how many tasks use it (the threads of one process share one), and
/// the CPUs that may hold its translations (mm_cpumask: those that loaded its page tables and have
/// not loaded another's since), which a change of a mapping must flush.
/// </summary>
public sealed class MemoryDescriptor
{
    private readonly List<MemoryRegion> _regions;

    internal MemoryDescriptor(AddressSpaceBuilder space, IEnumerable<MemoryRegion> regions)
    {
        Space = space;
        _regions = [.. regions];
    }

    /// <summary>The page tables.</summary>
    public AddressSpaceBuilder Space { get; }

    public IReadOnlyList<MemoryRegion> Regions => _regions;

    /// <summary>Where the next mmap goes: above every region below the stack area (a simple bump allocator of address space).</summary>
    internal ulong NextMapBase { get; set; } = 0x0000_7000_0000_0000;

    /// <summary>The tasks that use this address space (mm_users): the last to exit or exec tears it down.</summary>
    internal int Users { get; set; } = 1;

    /// <summary>Bit n set: CPU n has these page tables loaded, or kept them loaded while it idles (lazy TLB).</summary>
    internal ulong ActiveCpus { get; set; }

    internal void AddRegion(MemoryRegion region) => _regions.Add(region);

    internal void RemoveRegion(MemoryRegion region) => _regions.Remove(region);

    /// <summary>Puts <paramref name="parts"/> where <paramref name="region"/> was (a VMA split by mprotect).</summary>
    internal void ReplaceRegion(MemoryRegion region, IEnumerable<MemoryRegion> parts)
    {
        int at = _regions.IndexOf(region);
        _regions.RemoveAt(at);
        _regions.InsertRange(at, parts);
    }
}
