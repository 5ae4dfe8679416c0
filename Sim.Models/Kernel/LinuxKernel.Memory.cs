using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>Memory: mmap and munmap, demand-zero and copy-on-write faults, frame reference counts.</summary>
public sealed partial class LinuxKernel
{
    /// <summary>An anonymous private mapping of <paramref name="pages"/> pages: a new region, demand-zero; returns its address.</summary>
    private ulong Map(KernelPath path, Process p, ulong pages)
    {
        path.Work(_costs.Mmap);
        ulong start = p.NextMapBase;
        p.NextMapBase += (pages + 1) * 4096; // a guard page between mappings
        p.AddRegion(new MemoryRegion("mmap", start, pages, Writable: true, Populated: false));
        return start;
    }

    /// <summary>munmap of the region starting at <paramref name="start"/>: its resident pages are freed and their translations flushed.</summary>
    private void Unmap(KernelPath path, Process p, ulong start)
    {
        path.Work(_costs.Mmap);
        if (p.Regions.FirstOrDefault(r => r.Start == start) is not { } region)
        {
            return;
        }
        for (ulong page = 0; page < region.Pages; page++)
        {
            ulong va = region.Start + (page * 4096);
            if (p.Space.LeafEntryAddress(va) is { } leaf && (Memory.ReadUInt64(leaf) & PageEntry.Present) != 0)
            {
                path.Load(leaf).Work(_costs.PerPteUnmap);
                Release(Memory.ReadUInt64(leaf) & PageEntry.AddressMask);
                Memory.WriteUInt64(leaf, 0);
                _ops.UpdatePageTableEntry(path, leaf);
                _ops.FlushTlbPage(path, va);
            }
        }
        p.RemoveRegion(region);
    }

    /// <summary>Demand-zero and copy-on-write faults; false for a fault the process cannot survive.</summary>
    private bool HandlePageFault(KernelPath path, Process p, PageFaultErrorCode code, ulong address)
    {
        MemoryRegion? region = p.RegionOf(address);
        bool write = (code & PageFaultErrorCode.Write) != 0;
        if (region is null || (write && !region.Writable))
        {
            return false;
        }
        ulong page = address & ~0xFFFUL;
        ulong flags = PageEntry.User | (region.Writable ? PageEntry.Writable : 0);
        ulong? leaf = p.Space.LeafEntryAddress(page);
        ulong entry = leaf is { } l ? Memory.ReadUInt64(l) : 0;
        if ((entry & PageEntry.Present) == 0 && region.FileId is { } file)
        {
            return MapFilePage(path, p, region, file, page);
        }
        if ((entry & PageEntry.Present) == 0)
        {
            _demandZeroFaults.Increment();
            path.Work(_costs.DemandZeroFault);
            ulong frame = Memory.AllocateFrame();
            _frameReferences[frame] = 1;
            path.ZeroPage(frame);
            p.Space.Map4K(page, frame, flags);
            _ops.UpdatePageTableEntry(path, p.Space.LeafEntryAddress(page)!.Value);
            return true;
        }
        if (!write || (entry & PageEntry.Writable) != 0)
        {
            return false; // present and allowed: not a fault this kernel makes
        }
        _copyOnWriteFaults.Increment();
        path.Work(_costs.CopyOnWriteFault);
        ulong old = entry & PageEntry.AddressMask;
        ulong target = old;
        if (_frameReferences.GetValueOrDefault(old, 1) > 1)
        {
            target = Memory.AllocateFrame();
            _frameReferences[target] = 1;
            path.CopyPage(old, target);
            Release(old);
        }
        Memory.WriteUInt64(leaf!.Value, (entry & ~PageEntry.AddressMask) | target | PageEntry.Writable);
        _ops.UpdatePageTableEntry(path, leaf.Value);
        _ops.FlushTlbPage(path, page);
        return true;
    }

    private void Release(ulong frame)
    {
        int refs = _frameReferences.GetValueOrDefault(frame, 1) - 1;
        if (refs <= 0)
        {
            _frameReferences.Remove(frame);
            Memory.FreeFrame(frame);
        }
        else
        {
            _frameReferences[frame] = refs;
        }
    }
}
