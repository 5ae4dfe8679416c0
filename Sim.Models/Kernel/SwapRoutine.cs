namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's swap paths (mm/vmscan.c's anonymous half of shrink_page_list, mm/swap_state.c,
/// mm/page_io.c and mm/memory.c's do_swap_page), laid out in a text block of their own when a
/// kernel turns swap on (<see cref="LinuxKernel.EnableSwap"/>), as the <see cref="ReclaimRoutine"/>s
/// are, so that a kernel without swap keeps the older layout and its results.
/// </summary>
public enum SwapRoutine
{
    /// <summary>
    /// An anonymous page reclaim sends to swap: add_to_swap (get_swap_page, the page added to the
    /// swap cache's tree under its lock), try_to_unmap_one (the page-table lock, the entry cleared
    /// and flushed, the swap entry set, page_remove_rmap, the mm's counters) and pageout's
    /// swap_writepage, which builds the write's bio. The request and the flush are the path's own.
    /// </summary>
    SwapOut,

    /// <summary>
    /// A swap write's end: end_swap_bio_write and end_page_writeback, then the page's removal from
    /// the swap cache (__delete_from_swap_cache under the tree lock, swapcache_free) and its release.
    /// </summary>
    WritebackEnd,

    /// <summary>
    /// do_swap_page's first half for an entry whose page is not in memory: pte_to_swp_entry,
    /// lookup_swap_cache, then read_swap_cache_async (the new page added to the swap cache and the
    /// LRU) and swap_readpage's bio. The allocation, the charge and the request are the path's own.
    /// </summary>
    SwapInStart,

    /// <summary>
    /// do_swap_page once the page is in the swap cache (read, or still being written out): the
    /// lookup, lock_page, the memory cgroup's commit, the mm's counters, mk_pte and set_pte_at,
    /// page_add_anon_rmap, swap_free and unlock_page.
    /// </summary>
    SwapInMap,
}
