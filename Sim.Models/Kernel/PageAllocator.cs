using Sim.Engine.Statistics;
using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The page allocator as the kernel's paths use it (mm/page_alloc.c): every page taken or given
/// back runs the per-CPU lists' fast path (<see cref="KernelRoutine.PageAllocator"/>, on this
/// CPU's lines). A kernel of one CPU takes the zone's frames in order, as its one list would hand
/// them out. An SMP kernel puts each CPU's free-page lists (<see cref="PerCpuPages"/>) in front
/// of the zone: a process's page comes from the asking CPU's list of its own NUMA node (first
/// touch), and a batch moves between a list and the zone under the zone's lock, which every CPU
/// shares (rmqueue_bulk and free_pcppages_bulk).
/// </summary>
public sealed class PageAllocator
{
    private readonly PhysicalMemory _memory;
    private ulong _zoneLock; // the zone lock's word, on a line of its own; 0 in a kernel of one CPU
    private Counter? _zoneBatches;

    public PageAllocator(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
    }

    private bool Smp => _zoneLock != 0;

    /// <summary>The SMP build: the zone's lock word (struct zone keeps it in a cache-line-aligned section) and the count of batches moved under it. Done as the secondary CPUs come up.</summary>
    internal void BecomeSmp(ulong zoneLock, Counter zoneBatches)
    {
        ArgumentNullException.ThrowIfNull(zoneBatches);
        (_zoneLock, _zoneBatches) = (zoneLock, zoneBatches);
    }

    /// <summary>
    /// <paramref name="times"/> pages taken or given back on <paramref name="cpu"/> whose frames do
    /// not pass through the lists in the model (page tables, task structures and stacks, which come
    /// from the zone in address order): the fast path, and on an SMP kernel the zone lock once every
    /// <see cref="PerCpuPages.Batch"/> of them on a CPU, as the lists would move a batch.
    /// </summary>
    internal KernelPath Charge(KernelPath path, PerCpu cpu, int times = 1)
    {
        path.Run(KernelRoutine.PageAllocator, times);
        for (int t = 0; Smp && t < times; t++)
        {
            if (++cpu.PageAllocatorCalls % PerCpuPages.Batch == 0)
            {
                ZoneBatch(path);
            }
        }
        return path;
    }

    /// <summary>
    /// A process's page, asked for on <paramref name="cpu"/>: on an SMP kernel from its list of its
    /// node, refilled under the zone lock when empty, every CPU's lists drained back first if
    /// memory has no free page left (drain_all_pages, as an allocation does before it fails).
    /// </summary>
    internal ulong Take(KernelPath path, PerCpu cpu, IReadOnlyList<PerCpu> cpus)
    {
        path.Run(KernelRoutine.PageAllocator);
        if (!Smp)
        {
            return _memory.AllocateFrame();
        }
        ulong frame;
        bool refilled;
        try
        {
            frame = cpu.Pages!.Take(cpu.Node, out refilled);
        }
        catch (InsufficientMemoryException)
        {
            foreach (PerCpu c in cpus)
            {
                c.Pages!.DrainAll();
            }
            frame = cpu.Pages!.Take(cpu.Node, out refilled);
        }
        if (refilled)
        {
            ZoneBatch(path);
        }
        return frame;
    }

    /// <summary>A process's page back, on <paramref name="cpu"/>: on an SMP kernel to its list of the page's node, a batch drained to the zone under its lock when the list is over its high mark.</summary>
    internal void Give(KernelPath path, PerCpu cpu, ulong frame)
    {
        path.Run(KernelRoutine.PageAllocator);
        if (!Smp)
        {
            _memory.FreeFrame(frame);
        }
        else if (cpu.Pages!.Give(frame))
        {
            ZoneBatch(path);
        }
    }

    private void ZoneBatch(KernelPath path)
    {
        path.SpinLockIrqSave(_zoneLock).Run(AddedRoutine.ZoneBatch).SpinUnlockIrqRestore(_zoneLock);
        _zoneBatches!.Increment();
    }
}
