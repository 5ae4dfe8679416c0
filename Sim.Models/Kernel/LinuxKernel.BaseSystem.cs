using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>The guest's installed system in memory as its boot left it (<see cref="BaseSystem"/>).</summary>
public sealed partial class LinuxKernel
{
    /// <summary>
    /// Lays out what <paramref name="system"/>'s boot left in memory, untimed (the run begins after
    /// boot): its files' pages in the page cache, on the LRU like any file page, and its daemons'
    /// anonymous pages, private, which only a kernel with swap reclaims (to swap: the daemons are
    /// idle and never touch them again in the run). Returns every frame written, in order, for a
    /// host that backs guest memory on first touch to back them as the boot's writes would have.
    /// </summary>
    public IReadOnlyList<ulong> LoadBaseSystem(BaseSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (system.CacheBytes % PhysicalMemory.FrameBytes != 0 || system.AnonymousBytes % PhysicalMemory.FrameBytes != 0)
        {
            throw new ArgumentException($"A base system's parts are whole pages; got {system.CacheBytes} bytes of cache and {system.AnonymousBytes} of anonymous memory.", nameof(system));
        }
        var written = new List<ulong>();
        if (system.CacheBytes > 0)
        {
            int file = Files.Create($"{system.Image}/boot-files", system.CacheBytes);
            for (ulong page = 0; page < Files[file].Pages; page++)
            {
                ulong frame = Memory.AllocateFrame();
                CacheFilePage(file, page, frame);
                written.Add(frame);
            }
        }
        int anonymous = written.Count;
        for (ulong page = 0; page < system.AnonymousBytes / PhysicalMemory.FrameBytes; page++)
        {
            written.Add(Memory.AllocateFrame()); // private data: content label 0
        }
        AddIdleAnonymous(written.Skip(anonymous));
        return written;
    }

    /// <summary>The frames of <paramref name="p"/>'s resident regions (those populated as it started), in address order: what its start wrote or mapped before the run.</summary>
    public IReadOnlyList<ulong> ResidentFrames(Process p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var frames = new List<ulong>();
        foreach (MemoryRegion r in p.Regions.Where(r => r.Populated))
        {
            for (ulong page = 0; page < r.Pages; page++)
            {
                ulong va = r.Start + (page * 4096);
                if (p.Space.LeafEntryAddress(va) is { } leaf && (Memory.ReadUInt64(leaf) & PageEntry.Present) != 0)
                {
                    frames.Add(PhysicalThrough(Memory.ReadUInt64(leaf), va) & ~0xFFFUL);
                }
            }
        }
        return frames;
    }
}
