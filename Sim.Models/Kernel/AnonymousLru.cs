namespace Sim.Models.Kernel;

/// <summary>
/// The anonymous LRU lists of one memory cgroup, or of the kernel for processes in none (a
/// lruvec's LRU_INACTIVE_ANON and LRU_ACTIVE_ANON), heads first. A kernel keeps them only when it
/// has swap: without it, as Linux without a swap device, reclaim never scans anonymous pages.
/// </summary>
/// <remarks>
/// A new anonymous page starts on the active list (lru_cache_add_active_or_unevictable, as in
/// 2.6.28 to 5.8); reclaim deactivates from the active list's tail when the inactive list is the
/// shorter (inactive_anon_is_low with an inactive_ratio of 1, what a zone under 1 GiB gets) and
/// takes pages from the inactive list's tail, giving one whose accessed bit is set a second
/// round on the active list (page_referenced).
/// </remarks>
public sealed class AnonymousLru
{
    internal LinkedList<AnonymousPage> Inactive { get; } = new();

    internal LinkedList<AnonymousPage> Active { get; } = new();

    /// <summary>The pages on both lists.</summary>
    public int Count => Inactive.Count + Active.Count;

    /// <summary>Puts <paramref name="page"/> at the head of its active (or inactive) list.</summary>
    internal static void Move(AnonymousPage page, bool toActive)
    {
        page.Node.List?.Remove(page.Node);
        (toActive ? page.Lru.Active : page.Lru.Inactive).AddFirst(page.Node);
    }
}

/// <summary>
/// One anonymous page on an LRU list, and its reverse mapping: the address space and address
/// that map it. Linux finds every mapping through the page's anon_vma; the model keeps the one
/// that made the page, which after a fork also names the frame the child shares. A page of a
/// guest's base system (its idle daemons' memory, <see cref="BaseSystem"/>) has none: no process
/// the model runs maps it, and none touches it again.
/// </summary>
internal sealed class AnonymousPage
{
    public AnonymousPage(ulong frame, MemoryDescriptor? mm, ulong address, AnonymousLru lru)
    {
        (Frame, Mm, Address, Lru) = (frame, mm, address, lru);
        Node = new LinkedListNode<AnonymousPage>(this);
    }

    public ulong Frame { get; }

    /// <summary>The address space that maps the page, or null for a base system's idle page.</summary>
    public MemoryDescriptor? Mm { get; }

    public ulong Address { get; }

    public AnonymousLru Lru { get; }

    public LinkedListNode<AnonymousPage> Node { get; }

    public bool Active => Node.List == Lru.Active;
}
