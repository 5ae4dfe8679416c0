namespace Sim.Models.Kernel;

/// <summary>
/// The page cache (mm/filemap.c): a file's pages by their index in the file, each a frame that
/// holds the cache's own reference (add_to_page_cache takes one, as page_cache_get does), so a
/// page mapped by processes outlives their unmapping. One table for every file, where Linux keeps
/// a radix tree per inode (its address_space).
/// <para>
/// Each page is on one of two file LRU lists of the memory cgroup charged for it, or of the kernel
/// itself for pages no container was charged for (a page read at boot): the inactive list, where
/// a new page starts, and the active list, where a second use moves it (mark_page_accessed, after
/// the two-list scheme of Linux 2.6.28's split LRU, mm/swap.c). Reclaim
/// (<see cref="LinuxKernel"/>'s shrink paths) takes pages from the inactive list's tail, and moves
/// pages from the active list's tail to the inactive list when that is the shorter one
/// (inactive_file_is_low). The lists are kept in order, so reclaim's choices are deterministic.
/// </para>
/// </summary>
public sealed class PageCache
{
    private readonly Dictionary<(int File, ulong Page), CachedPage> _pages = []; // looked up only, never iterated
    private readonly PageFrames _frames;

    public PageCache(PageFrames frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        _frames = frames;
    }

    /// <summary>The pages the cache holds.</summary>
    public int Count => _pages.Count;

    /// <summary>The file LRU lists of the pages no container was charged for.</summary>
    internal FileLru KernelLru { get; } = new();

    /// <summary>find_get_page: the frame of page <paramref name="page"/> of file <paramref name="file"/>, if cached.</summary>
    public bool TryFind(int file, ulong page, out ulong frame)
    {
        bool found = _pages.TryGetValue((file, page), out CachedPage? cached);
        frame = found ? cached!.Frame : 0;
        return found;
    }

    /// <summary>add_to_page_cache_lru: <paramref name="frame"/> holds page <paramref name="page"/> of file <paramref name="file"/> from now on, with the cache's reference, at the head of <paramref name="lru"/>'s inactive list.</summary>
    public void Add(int file, ulong page, ulong frame, FileLru? lru = null)
    {
        var cached = new CachedPage(file, page, frame, lru ?? KernelLru);
        if (!_pages.TryAdd((file, page), cached))
        {
            throw new InvalidOperationException($"Page {page} of file {file} is already in the page cache (frame {_pages[(file, page)].Frame:X}).");
        }
        _frames.Cached(frame);
        cached.Lru.Inactive.AddFirst(cached.Node);
    }

    /// <summary>
    /// mark_page_accessed on a use of a cached page by a read or write: the first use since it was
    /// last moved marks it referenced, the second moves an inactive page to the head of the active list.
    /// </summary>
    public void Accessed(int file, ulong page)
    {
        CachedPage cached = Get(file, page);
        if (cached.Active || !cached.Referenced)
        {
            cached.Referenced = true;
            return;
        }
        cached.Referenced = false;
        Move(cached, toActive: true);
    }

    /// <summary>A write filled the page: it must be written back before it can be reclaimed.</summary>
    public void Dirtied(int file, ulong page) => Get(file, page).Dirty = true;

    /// <summary>The page at the tail of <paramref name="lru"/>'s inactive list (the one unused longest), or null.</summary>
    internal static CachedPage? InactiveTail(FileLru lru) => lru.Inactive.Last?.Value;

    /// <summary>The page at the tail of <paramref name="lru"/>'s active list, or null.</summary>
    internal static CachedPage? ActiveTail(FileLru lru) => lru.Active.Last?.Value;

    /// <summary>Moves <paramref name="cached"/> to the head of its active list (a referenced page reclaim keeps) or inactive list (one deactivated, or put back), its referenced mark cleared.</summary>
    internal static void Move(CachedPage cached, bool toActive)
    {
        cached.Referenced = false;
        cached.Node.List!.Remove(cached.Node);
        (toActive ? cached.Lru.Active : cached.Lru.Inactive).AddFirst(cached.Node);
        cached.Active = toActive;
    }

    /// <summary>__remove_mapping: the page leaves the cache and its LRU list; the caller drops the cache's reference.</summary>
    internal void Remove(CachedPage cached)
    {
        _pages.Remove((cached.File, cached.Page));
        cached.Node.List!.Remove(cached.Node);
    }

    private CachedPage Get(int file, ulong page) =>
        _pages.TryGetValue((file, page), out CachedPage? cached) ? cached : throw new InvalidOperationException($"Page {page} of file {file} is not in the page cache.");

    /// <summary>One cached page: where it is, the LRU lists it is on and its page flags (PG_active, PG_referenced, PG_dirty).</summary>
    internal sealed class CachedPage
    {
        public CachedPage(int file, ulong page, ulong frame, FileLru lru)
        {
            (File, Page, Frame, Lru) = (file, page, frame, lru);
            Node = new LinkedListNode<CachedPage>(this);
        }

        public int File { get; }

        public ulong Page { get; }

        public ulong Frame { get; }

        public FileLru Lru { get; }

        public LinkedListNode<CachedPage> Node { get; }

        public bool Active { get; set; }

        public bool Referenced { get; set; }

        public bool Dirty { get; set; }
    }
}

/// <summary>The file LRU lists of one memory cgroup (its lruvec's LRU_INACTIVE_FILE and LRU_ACTIVE_FILE), heads first.</summary>
public sealed class FileLru
{
    internal LinkedList<PageCache.CachedPage> Inactive { get; } = new();

    internal LinkedList<PageCache.CachedPage> Active { get; } = new();

    /// <summary>The pages on both lists.</summary>
    public int Count => Inactive.Count + Active.Count;

    /// <summary>The pages on the inactive list.</summary>
    public int InactiveCount => Inactive.Count;
}
