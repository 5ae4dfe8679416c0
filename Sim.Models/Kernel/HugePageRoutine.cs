namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's transparent huge page paths (mm/huge_memory.c), laid out in a text block of their
/// own when a kernel turns THP on (<see cref="LinuxKernel.EnableTransparentHugePages"/>), as the
/// <see cref="ReclaimRoutine"/>s are, so that a kernel without THP keeps the older layout and its
/// results.
/// </summary>
public enum HugePageRoutine
{
    /// <summary>
    /// A fault in an anonymous region that a huge page can serve: do_huge_pmd_anonymous_page and
    /// __do_huge_pmd_anonymous_page (the order-9 folio, the memory cgroup's charge, the page table
    /// deposited for a later split, set_pmd_at under the pmd lock, the mm's counters). Zeroing the
    /// 2 MiB (clear_huge_page) is the path's own stores.
    /// </summary>
    Fault,

    /// <summary>
    /// __split_huge_pmd and __split_huge_pmd_locked, before the per-page loop: the pmd lock,
    /// pmdp_invalidate, and the deposited page table withdrawn (pgtable_trans_huge_withdraw).
    /// </summary>
    Split,

    /// <summary>One page of a split: its entry made (mk_pte, set_pte_at) and its map count raised (atomic_inc of the subpage's _mapcount).</summary>
    SplitPerPage,

    /// <summary>copy_huge_pmd at fork: the child's page table deposited, both pmd locks, the page's references and the parent's entry write-protected.</summary>
    Copy,

    /// <summary>khugepaged_scan_pmd for one 2 MiB range: its 512 entries checked (present, writable, the page's map count and flags); the table's lines are the path's own loads.</summary>
    ScanRange,

    /// <summary>collapse_huge_page's bookkeeping: the mmap lock taken for writing, the huge page allocated and charged, pmdp_collapse_flush, the table deposited and the huge entry set.</summary>
    Collapse,

    /// <summary>One present page of a collapse: isolated from its LRU list and locked (__collapse_huge_page_isolate), then released after the copy; the copy is the path's own.</summary>
    CollapsePerPage,

    /// <summary>zap_huge_pmd at munmap or exit: the entry cleared under the pmd lock, page_remove_rmap of the compound page, the deposited table freed.</summary>
    Zap,
}
