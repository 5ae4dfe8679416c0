using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The page allocator's view of physical memory, as Linux's mem_map is: a page descriptor
/// (struct page) per frame in kernel memory, and each frame's reference count (its mappings and
/// the page cache's own reference). The memory, file and process paths take and drop references
/// through it; the last reference returns the frame to the allocator. What a page is charged to
/// (a container's memory cgroup) stays with the caller.
/// </summary>
/// <remarks>
/// A frame with no count recorded counts as one reference: the frames the kernel maps for itself
/// at boot, which it never counts. The counts are looked up by frame only, never iterated, so the
/// dictionary's order cannot reach a result.
/// </remarks>
public sealed class PageFrames
{
    private readonly ulong _memMap;
    private readonly Dictionary<ulong, int> _references = [];
    private readonly PageAllocator _pages;

    /// <summary>Lays mem_map out in <paramref name="memory"/>: one descriptor of <see cref="KernelObjects.PageDescriptorBytes"/> per frame, contiguous, from never-used memory.</summary>
    /// <param name="memory">The memory whose frames are counted.</param>
    /// <param name="pages">The page allocator the frames come from and go back to, with its work.</param>
    public PageFrames(PhysicalMemory memory, PageAllocator pages)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(pages);
        _pages = pages;
        _memMap = memory.AllocateContiguous((memory.SizeBytes / PhysicalMemory.FrameBytes) * KernelObjects.PageDescriptorBytes);
    }

    /// <summary>The page descriptor (struct page) of <paramref name="frame"/> in mem_map.</summary>
    public ulong Descriptor(ulong frame) => _memMap + ((frame >> PhysicalMemory.FrameShift) * KernelObjects.PageDescriptorBytes);

    /// <summary>Whether more than one mapping (or a mapping and the page cache) holds <paramref name="frame"/>.</summary>
    public bool IsShared(ulong frame) => _references.GetValueOrDefault(frame, 1) > 1;

    /// <summary>A frame the kernel has just allocated, with its one reference (a populated image page at exec, not timed).</summary>
    public void Mapped(ulong frame) => _references[frame] = 1;

    /// <summary>One more mapping of a page the kernel holds already (a cached file's page mapped at exec, not timed).</summary>
    public void MappedAgain(ulong frame) => _references[frame] = _references.GetValueOrDefault(frame, 1) + 1;

    /// <summary>A fresh page from the page allocator, mapped once (page_add_new_anon_rmap sets its descriptor without a locked operation).</summary>
    public ulong NewPage(KernelPath path) =>
        TryNewPage(path, out ulong frame) ? frame : throw new InsufficientMemoryException("Physical memory is exhausted.");

    /// <summary>As <see cref="NewPage"/>; false when memory has no free page (the allocator's fast path run all the same).</summary>
    public bool TryNewPage(KernelPath path, out ulong frame)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!_pages.TryTake(path, out frame))
        {
            return false;
        }
        _references[frame] = 1;
        path.Store(Descriptor(frame));
        return true;
    }

    /// <summary>The frames of a huge page: 512, each counted as a page of its own here (Linux counts the compound page at its head).</summary>
    public const int HugePageFrames = (int)(PhysicalMemory.LargeFrameBytes / PhysicalMemory.FrameBytes);

    /// <summary>
    /// A fresh transparent huge page, mapped once: the order-9 allocation and prep_compound_page,
    /// which writes the descriptor of every one of its 512 pages (32 KiB of mem_map). False when
    /// memory has no free 2 MiB run.
    /// </summary>
    public bool TryNewHugePage(KernelPath path, out ulong first)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!_pages.TryTakeLarge(path, out first))
        {
            return false;
        }
        for (int i = 0; i < HugePageFrames; i++)
        {
            _references[first + ((ulong)i * PhysicalMemory.FrameBytes)] = 1;
        }
        path.StoreRange(DirectMap.Of(Descriptor(first)), HugePageFrames * KernelObjects.PageDescriptorBytes);
        return true;
    }

    /// <summary>One more mapping of a whole huge page (copy_huge_pmd at fork): get_page and the compound map count, two locked increments of its head's descriptor.</summary>
    public void TakeHugeReference(KernelPath path, ulong first)
    {
        ArgumentNullException.ThrowIfNull(path);
        for (int i = 0; i < HugePageFrames; i++)
        {
            ulong frame = first + ((ulong)i * PhysicalMemory.FrameBytes);
            _references[frame] = _references.GetValueOrDefault(frame, 1) + 1;
        }
        ulong head = Descriptor(first);
        path.Atomic(head).Atomic(head);
    }

    /// <summary>
    /// A whole huge page's mapping dropped (zap_huge_pmd): two locked decrements of its head's
    /// descriptor. When no page of it is held any more it goes back to the allocator whole; when a
    /// split mapping elsewhere still holds some of its pages, the others go back one by one. Returns
    /// the frames given back, for the caller to uncharge.
    /// </summary>
    public IReadOnlyList<ulong> ReleaseHuge(KernelPath path, ulong first)
    {
        ArgumentNullException.ThrowIfNull(path);
        ulong head = Descriptor(first);
        path.Atomic(head).Atomic(head);
        var freed = new List<ulong>(HugePageFrames);
        for (int i = 0; i < HugePageFrames; i++)
        {
            ulong frame = first + ((ulong)i * PhysicalMemory.FrameBytes);
            int refs = _references.GetValueOrDefault(frame, 1) - 1;
            if (refs > 0)
            {
                _references[frame] = refs;
                continue;
            }
            _references.Remove(frame);
            freed.Add(frame);
        }
        if (freed.Count == HugePageFrames)
        {
            _pages.GiveLarge(path, first);
        }
        else
        {
            foreach (ulong frame in freed)
            {
                _pages.Give(path, frame);
            }
        }
        return freed;
    }

    /// <summary>One more mapping of a page: get_page and the reverse-map count, two locked increments of its descriptor.</summary>
    public void TakeReference(KernelPath path, ulong frame)
    {
        ArgumentNullException.ThrowIfNull(path);
        _references[frame] = _references.GetValueOrDefault(frame, 1) + 1;
        ulong descriptor = Descriptor(frame);
        path.Atomic(descriptor).Atomic(descriptor);
    }

    /// <summary>The page cache's own reference to a page it keeps (counted from none: a cached page need not be mapped).</summary>
    public void Cached(ulong frame) => _references[frame] = _references.GetValueOrDefault(frame, 0) + 1;

    /// <summary>
    /// One mapping fewer: two locked decrements of the descriptor; the last reference returns the
    /// page to the allocator. Returns whether it did, so that the caller uncharges it.
    /// </summary>
    public bool Release(KernelPath path, ulong frame)
    {
        ArgumentNullException.ThrowIfNull(path);
        ulong descriptor = Descriptor(frame);
        path.Atomic(descriptor).Atomic(descriptor);
        int refs = _references.GetValueOrDefault(frame, 1) - 1;
        if (refs > 0)
        {
            _references[frame] = refs;
            return false;
        }
        _references.Remove(frame);
        _pages.Give(path, frame);
        return true;
    }
}
