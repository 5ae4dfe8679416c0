namespace Sim.Models.Kernel;

/// <summary>
/// A range of a process's user address space (a VMA): its first page, page count, whether it is
/// writable, and whether its pages are resident when the process starts (otherwise each is
/// demand-zero on its first touch).
/// </summary>
/// <param name="FileId">For a file-backed region (a program's text), the file whose pages it maps, read-only and shared through the page cache.</param>
public sealed record MemoryRegion(string Name, ulong Start, ulong Pages, bool Writable, bool Populated = true, int? FileId = null)
{
    public bool Contains(ulong linearAddress) => linearAddress >= Start && linearAddress < Start + (Pages * 4096);
}
