namespace Sim.Models.Kernel;

/// <summary>
/// The page cache (mm/filemap.c): a file's pages by their index in the file, each a frame that
/// holds the cache's own reference (add_to_page_cache takes one, as page_cache_get does), so a
/// page mapped by processes outlives their unmapping. One table for every file, where Linux keeps
/// a radix tree per inode (its address_space); the model has no writeback and no reclaim, so a
/// page, once cached, stays until the kernel is gone.
/// </summary>
public sealed class PageCache
{
    private readonly Dictionary<(int File, ulong Page), ulong> _pages = []; // looked up only, never iterated
    private readonly PageFrames _frames;

    public PageCache(PageFrames frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        _frames = frames;
    }

    /// <summary>The pages the cache holds.</summary>
    public int Count => _pages.Count;

    /// <summary>find_get_page: the frame of page <paramref name="page"/> of file <paramref name="file"/>, if cached.</summary>
    public bool TryFind(int file, ulong page, out ulong frame) => _pages.TryGetValue((file, page), out frame);

    /// <summary>add_to_page_cache: <paramref name="frame"/> holds page <paramref name="page"/> of file <paramref name="file"/> from now on, with the cache's reference.</summary>
    public void Add(int file, ulong page, ulong frame)
    {
        if (!_pages.TryAdd((file, page), frame))
        {
            throw new InvalidOperationException($"Page {page} of file {file} is already in the page cache (frame {_pages[(file, page)]:X}).");
        }
        _frames.Cached(frame);
    }
}
