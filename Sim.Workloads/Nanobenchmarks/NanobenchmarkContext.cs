using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Workloads.Nanobenchmarks;

/// <summary>What a nanobenchmark's setup and body see: the process's address space and the machine's memory.</summary>
public sealed class NanobenchmarkContext(AddressSpaceBuilder space, PhysicalMemory memory)
{
    public AddressSpaceBuilder Space { get; } = space;

    public PhysicalMemory Memory { get; } = memory;

    /// <summary>The physical address of the page-table entry ptemod rewrites.</summary>
    public ulong PteAddress { get; set; }
}
