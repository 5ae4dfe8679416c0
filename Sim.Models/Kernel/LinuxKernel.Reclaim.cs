using Sim.Engine.Statistics;

namespace Sim.Models.Kernel;

/// <summary>
/// Page reclaim (mm/vmscan.c's shrink paths): for a memory cgroup at its limit, driven by
/// mm/memcontrol.c's charge, the page cache charged to the container is taken back from its LRU
/// lists, so that a container whose files outgrow its limit keeps running where one whose
/// processes' own pages do is OOM-killed; for an allocation that finds memory empty (the balloon
/// driver's), every list is scanned.
/// </summary>
/// <remarks>
/// Model: a kernel without swap reclaims only page cache: a process's anonymous pages could go only
/// to swap, and a Linux kernel without a swap device does not scan its anonymous lists. With swap,
/// a pass takes page cache first and sends anonymous pages to swap for the rest
/// (LinuxKernel.Swap.cs). A dirty page is put back (pageout would start its writeback; the model has none) and a mapped one
/// is kept active (page_referenced would find its mappings' accessed bits set, as they are for the
/// program text the model maps: the bits themselves are not tracked).
/// </remarks>
public sealed partial class LinuxKernel
{
    /// <summary>SWAP_CLUSTER_MAX (include/linux/swap.h): the pages a reclaim pass sets out to free, and the batch shrink_active_list moves.</summary>
    private const int SwapClusterMax = 32;

    private Counter? _reclaimScanned;
    private Counter? _reclaimFreed;

    /// <summary>The reclaim counters (kernel.reclaim) and routines, made with the first container or balloon, so that runs without them keep their statistics and layout. A kernel with neither lays the routines out as its memory fills (<see cref="LayOutReclaimWhileRoomLasts"/>) and reclaims uncounted: statistics are registered before a run starts.</summary>
    private void CountReclaim()
    {
        if (_reclaimScanned is null)
        {
            _text.LayOutReclaimRoutines();
            StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel.reclaim");
            _reclaimScanned = stats.Counter("scanned", "count", "pages reclaim looked at on the file LRU lists");
            _reclaimFreed = stats.Counter("freed", "count", "page cache pages reclaim freed: for a container at its memory limit, or for an allocation that found memory empty");
        }
    }

    /// <summary>
    /// The never-used frames of the first node (where contiguous runs come from) below which a kernel lays its reclaim code out before it needs it: more
    /// than a per-CPU list's refill (<see cref="PerCpuPages.Batch"/>) and the code and lock lines
    /// together, so that the contiguous run the layout takes is still there. A model choice (the
    /// code is laid out lazily to keep other runs' layout), not a kernel's watermark.
    /// </summary>
    private const ulong ReclaimLayoutFrames = 64;

    /// <summary>Lays the reclaim code out while never-used memory still holds it, in a kernel with neither container nor balloon whose memory is filling: its first direct reclaim then finds it in place.</summary>
    private void LayOutReclaimWhileRoomLasts()
    {
        if (Memory.ContiguousFramesLeft < ReclaimLayoutFrames)
        {
            _text.LayOutReclaimRoutines(); // once; the counters are registered only at build time (a container or a balloon)
        }
    }

    /// <summary>
    /// One reclaim pass over <paramref name="lists"/>, in order (try_to_free_mem_cgroup_pages for a
    /// container's own lists; try_to_free_pages, the direct reclaim of an allocation that found no
    /// free page, for every list): pages are taken from each inactive list's tail until
    /// <see cref="SwapClusterMax"/> are freed or every page on the lists was looked at once;
    /// whenever an inactive list is the shorter (inactive_file_is_low) a batch moves down from its
    /// active list's tail first. Each clean, unmapped page is removed from the cache and its frame
    /// freed, which uncharges it. In a kernel with swap, the rest of the batch comes from
    /// <paramref name="anonymous"/> (<see cref="SwapOutPass"/>): those pages are freed when their
    /// writes end. Returns the pages freed at once.
    /// </summary>
    private int ReclaimPass(KernelPath path, IEnumerable<FileLru> lists, IEnumerable<AnonymousLru> anonymous)
    {
        path.Run(ReclaimRoutine.ReclaimPass);
        int freed = 0;
        foreach (FileLru lru in lists)
        {
            for (int budget = lru.Count; freed < SwapClusterMax && budget > 0; budget--)
            {
                if (lru.InactiveCount < lru.Count - lru.InactiveCount)
                {
                    Deactivate(path, lru);
                }
                if (PageCache.InactiveTail(lru) is not { } page)
                {
                    break;
                }
                ScanPage(path, page.Frame);
                if (_frames.IsShared(page.Frame) || page.Dirty)
                {
                    PageCache.Move(page, toActive: !page.Dirty); // mapped: referenced, kept; dirty: back to the head until written back
                    continue;
                }
                path.Run(ReclaimRoutine.RemoveMapping);
                _pageCache.Remove(page);
                Release(path, page.Frame); // the cache's reference, the last: the frame is freed (and uncharged)
                _reclaimFreed?.Increment();
                freed++;
            }
        }
        if (_swap is not null && freed < SwapClusterMax)
        {
            SwapOutPass(path, anonymous, SwapClusterMax - freed);
        }
        return freed;
    }

    /// <summary>
    /// A process's new page (<see cref="PageFrames.NewPage"/>); when memory has none, direct
    /// reclaim (<see cref="ReclaimPass"/> over every list) until one is free, as
    /// __alloc_pages_slowpath does before it gives up. Memory with nothing left to reclaim is the
    /// guest's out-of-memory end, which the model does not survive.
    /// </summary>
    private ulong NewPage(KernelPath path)
    {
        LayOutReclaimWhileRoomLasts();
        ulong frame;
        while (!_frames.TryNewPage(path, out frame))
        {
            DirectReclaim(path);
        }
        return frame;
    }

    /// <summary>
    /// A page for the page cache or a block transfer, taken from the zone's free frames of
    /// <paramref name="node"/> as the model has always taken them (not through the per-CPU lists);
    /// when the zone has none, from the allocator (whose per-CPU lists hold what reclaim freed),
    /// with direct reclaim as <see cref="NewPage"/>.
    /// </summary>
    private ulong CachePageFrame(KernelPath path, int node)
    {
        LayOutReclaimWhileRoomLasts();
        if (Memory.TryAllocateFrame(node, out ulong frame))
        {
            return frame;
        }
        while (!_pages.TryTake(path, out frame))
        {
            DirectReclaim(path);
        }
        return frame;
    }

    /// <summary>One pass of direct reclaim over every list; memory with nothing left to reclaim at once is out of memory, which ends the run with the reason.</summary>
    private void DirectReclaim(KernelPath path)
    {
        _text.LayOutReclaimRoutines();
        if (ReclaimPass(path, AllFileLists(), AllAnonymousLists()) == 0)
        {
            throw new InsufficientMemoryException(
                $"{_platform.Name}'s kernel is out of memory: its {Memory.SizeBytes >> 20} MiB hold no free page and no page cache reclaim can free ({SwapState}; the global OOM killer is not modelled).");
        }
    }

    /// <summary>What swap could do when memory ran out, for the message.</summary>
    private string SwapState => _swap is not { } swap ? "anonymous memory has no swap"
        : swap.Used == swap.Slots ? $"the {swap.Slots / 256} MiB swap area is full"
        : _writeback > 0 ? $"{_writeback} swap writes in flight, and this allocation cannot wait for them"
        : "no anonymous page reclaim could send to swap: those left are shared, huge or just used";

    /// <summary>Every file LRU list, the kernel's own first: what direct reclaim scans.</summary>
    private IEnumerable<FileLru> AllFileLists() => _containers.Select(c => c.Lru).Prepend(_pageCache.KernelLru);

    /// <summary>shrink_active_list: up to <see cref="SwapClusterMax"/> pages from the active list's tail move to the inactive list's head, a mapped one (still referenced) back to the active list's head.</summary>
    private void Deactivate(KernelPath path, FileLru lru)
    {
        for (int n = 0; n < SwapClusterMax && PageCache.ActiveTail(lru) is { } page; n++)
        {
            ScanPage(path, page.Frame);
            PageCache.Move(page, toActive: _frames.IsShared(page.Frame));
        }
    }

    /// <summary>A page looked at by reclaim: its descriptor read, its checks run.</summary>
    private void ScanPage(KernelPath path, ulong frame)
    {
        path.Load(_frames.Descriptor(frame)).Run(ReclaimRoutine.ScanPage);
        _reclaimScanned?.Increment();
    }
}
