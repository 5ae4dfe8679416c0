using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel half every address space shares: all physical memory mapped at
/// <see cref="Base"/> (Linux x86-64's direct map) with global, supervisor, writable 2 MiB pages,
/// so kernel paths read and write page tables and page contents through it.
/// </summary>
public static class DirectMap
{
    public const ulong Base = 0xFFFF_8880_0000_0000;

    /// <summary>Builds the kernel's master tree; processes copy its upper half.</summary>
    public static AddressSpaceBuilder Build(IPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        AddressSpaceBuilder kernel = platform.NewAddressSpace();
        for (ulong pa = 0; pa < platform.Memory.SizeBytes; pa += 1UL << PageEntry.LargePageShift)
        {
            kernel.Map2M(Base + pa, pa, PageEntry.Writable | PageEntry.Global);
        }
        return kernel;
    }

    /// <summary>The linear address at which the kernel reaches physical address <paramref name="physicalAddress"/>.</summary>
    public static ulong Of(ulong physicalAddress) => Base + physicalAddress;
}
