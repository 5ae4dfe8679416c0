namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's page-reclaim paths (mm/vmscan.c), laid out in a text block of their own the first
/// time a kernel reclaims, as the <see cref="AddedRoutine"/>s are, so that a kernel that never
/// reclaims keeps the older layout and its results.
/// </summary>
public enum ReclaimRoutine
{
    /// <summary>
    /// One reclaim pass for a memory cgroup over its limit: mem_cgroup_hierarchical_reclaim,
    /// try_to_free_mem_cgroup_pages, do_try_to_free_pages and shrink_zone's setup of the scan
    /// (get_scan_ratio), with the LRU lock taken to isolate pages (isolate_lru_pages).
    /// </summary>
    ReclaimPass,

    /// <summary>
    /// One page looked at on an LRU list: isolated from it, trylock_page, page_referenced's check
    /// of its mappings and the page flags (shrink_page_list; shrink_active_list for the active list).
    /// </summary>
    ScanPage,

    /// <summary>
    /// A clean, unmapped page cache page freed: __remove_mapping's removal from its file's radix tree
    /// under the mapping's tree_lock with interrupts off, and the page put on the pagevec that frees it.
    /// </summary>
    RemoveMapping,
}
