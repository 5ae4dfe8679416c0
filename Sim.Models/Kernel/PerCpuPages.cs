using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// One CPU's free pages, as Linux's struct per_cpu_pages keeps them (mm/page_alloc.c): a list per
/// NUMA node's zone, refilled from the zone <see cref="Batch"/> pages at a time when empty
/// (rmqueue_bulk, in address order, as the buddy allocator splits a free block) and drained
/// <see cref="Batch"/> of its coldest pages back when it holds more than <see cref="High"/>
/// (free_pcppages_bulk). A page freed goes to the head of its own node's list on the freeing CPU
/// and is the next that CPU hands out (free_unref_page: the page is still in that CPU's caches).
/// </summary>
/// <remarks>
/// Because each CPU takes runs of neighbouring frames, a process's pages on one CPU are physically
/// close together even while other CPUs fault at the same time, as on a real host; one shared free
/// list would interleave the CPUs' pages frame by frame and leave each process a fraction of the
/// L2's page colours. Only order-0 pages pass through the lists (as before Linux 5.14).
/// </remarks>
public sealed class PerCpuPages
{
    /// <summary>pcp->batch: pages moved between a CPU's list and its zone at once (zone_batchsize in mm/page_alloc.c: 31 for a zone of more than about 128 MiB).</summary>
    public const int Batch = 31;

    /// <summary>pcp->high: the most a CPU keeps before it drains a batch (pageset_set_batch, 6 x batch, in Linux 2.6 to 5.13).</summary>
    public const int High = 6 * Batch;

    private readonly PhysicalMemory _memory;
    private readonly LinkedList<ulong>[] _lists;

    public PerCpuPages(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        _lists = new LinkedList<ulong>[memory.Nodes];
        for (int n = 0; n < _lists.Length; n++)
        {
            _lists[n] = new LinkedList<ulong>();
        }
    }

    /// <summary>Pages the lists hold, free but not in the zone.</summary>
    public int Count => _lists.Sum(l => l.Count);

    /// <summary>
    /// A free page of node <paramref name="node"/>'s list (first touch: the node of the CPU that
    /// asks); <paramref name="refilled"/> says whether the list was empty and took a batch from the
    /// zone, which the caller does under the zone lock. A zone out of pages lends from the next
    /// node's (the zonelist's fallback); only memory with no free page at all refuses.
    /// </summary>
    public ulong Take(int node, out bool refilled) =>
        TryTake(node, out ulong frame, out refilled) ? frame : throw new InsufficientMemoryException($"Physical memory ({_memory.SizeBytes >> 20} MiB) is exhausted.");

    /// <summary>As <see cref="Take"/>; false when neither the list nor any zone has a free page.</summary>
    public bool TryTake(int node, out ulong frame, out bool refilled)
    {
        LinkedList<ulong> list = _lists[node];
        refilled = list.Count == 0;
        for (int i = 0; refilled && i < Batch && _memory.TryAllocateFrame(node, out ulong fresh); i++)
        {
            list.AddLast(fresh);
        }
        frame = list.First?.Value ?? 0;
        if (list.Count == 0)
        {
            return false;
        }
        list.RemoveFirst();
        return true;
    }

    /// <summary>
    /// Gives <paramref name="frame"/> back to its node's list; returns whether the list then held
    /// more than <see cref="High"/> and drained a batch of its coldest pages (the tail) to the zone.
    /// </summary>
    public bool Give(ulong frame)
    {
        LinkedList<ulong> list = _lists[_memory.NodeOf(frame)];
        _memory.Clear(frame); // free pages read as zeros, as the allocator's do
        list.AddFirst(frame);
        if (list.Count <= High)
        {
            return false;
        }
        Drain(list, Batch);
        return true;
    }

    /// <summary>Every page back to the zone (drain_all_pages, as an allocation that found memory empty does before it fails).</summary>
    public void DrainAll()
    {
        foreach (LinkedList<ulong> list in _lists)
        {
            Drain(list, list.Count);
        }
    }

    private void Drain(LinkedList<ulong> list, int pages)
    {
        for (int i = 0; i < pages; i++)
        {
            _memory.FreeFrame(list.Last!.Value);
            list.RemoveLast();
        }
    }
}
