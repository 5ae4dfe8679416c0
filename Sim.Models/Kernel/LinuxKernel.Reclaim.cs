namespace Sim.Models.Kernel;

/// <summary>
/// Page reclaim for a memory cgroup at its limit (mm/vmscan.c's shrink paths, driven by
/// mm/memcontrol.c's charge): the page cache charged to the container is taken back from its LRU
/// lists, so that a container whose files outgrow its limit keeps running where one whose
/// processes' own pages do is OOM-killed.
/// </summary>
/// <remarks>
/// Model: only page cache is reclaimed. A process's anonymous pages could go only to swap, and the
/// kernel has no swap device, as a Linux kernel without one does not scan its anonymous lists. A
/// dirty page is put back (pageout would start its writeback; the model has none) and a mapped one
/// is kept active (page_referenced would find its mappings' accessed bits set, as they are for the
/// program text the model maps: the bits themselves are not tracked).
/// </remarks>
public sealed partial class LinuxKernel
{
    /// <summary>SWAP_CLUSTER_MAX (include/linux/swap.h): the pages a reclaim pass sets out to free, and the batch shrink_active_list moves.</summary>
    private const int SwapClusterMax = 32;

    /// <summary>
    /// One reclaim pass over <paramref name="container"/>'s file LRU lists (try_to_free_mem_cgroup_pages):
    /// pages are taken from the inactive list's tail until <see cref="SwapClusterMax"/> are freed or
    /// every page on the lists was looked at once; whenever the inactive list is the shorter
    /// (inactive_file_is_low) a batch moves down from the active list's tail first. Each clean,
    /// unmapped page is removed from the cache and its frame freed, which uncharges it. Returns
    /// the pages freed.
    /// </summary>
    private int ReclaimFromContainer(KernelPath path, Container container)
    {
        FileLru lru = container.Lru;
        path.Run(ReclaimRoutine.ReclaimPass);
        int freed = 0;
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
            Release(path, page.Frame); // the cache's reference, the last: the frame is freed and uncharged
            _reclaimFreed!.Increment();
            freed++;
        }
        return freed;
    }

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
        _reclaimScanned!.Increment();
    }
}
