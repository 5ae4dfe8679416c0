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
    private Func<PerCpu>? _thisCpu;
    private IReadOnlyList<PerCpu> _cpus = [];

    /// <summary>The allocator of a kernel of one CPU, until <see cref="BecomeSmp"/>.</summary>
    public PageAllocator(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
    }

    private bool Smp => _zoneLock != 0;

    /// <summary>
    /// The SMP build, as the secondary CPUs come up: the zone's lock word (struct zone keeps it in a
    /// cache-line-aligned section), the count of batches moved under it, the kernel's CPUs and the
    /// one whose trap is being handled (this_cpu), whose lists a page comes from.
    /// </summary>
    internal void BecomeSmp(ulong zoneLock, Counter zoneBatches, IReadOnlyList<PerCpu> cpus, Func<PerCpu> thisCpu)
    {
        ArgumentNullException.ThrowIfNull(zoneBatches);
        ArgumentNullException.ThrowIfNull(cpus);
        ArgumentNullException.ThrowIfNull(thisCpu);
        (_zoneLock, _zoneBatches, _cpus, _thisCpu) = (zoneLock, zoneBatches, cpus, thisCpu);
    }

    /// <summary>The free pages: memory's, and those on every CPU's lists (what the zone's free-page count holds).</summary>
    public ulong FreeFrames => _memory.FramesFree + (ulong)_cpus.Sum(c => c.Pages!.Count);

    /// <summary>
    /// <paramref name="times"/> pages taken or given back whose frames do not pass through the
    /// lists in the model (page tables, task structures and stacks, which come from the zone in
    /// address order): the fast path, and on an SMP kernel the zone lock once every
    /// <see cref="PerCpuPages.Batch"/> of them on a CPU, as the lists would move a batch.
    /// </summary>
    internal KernelPath Charge(KernelPath path, int times = 1)
    {
        path.Run(KernelRoutine.PageAllocator, times);
        for (int t = 0; Smp && t < times; t++)
        {
            if (++_thisCpu!().PageAllocatorCalls % PerCpuPages.Batch == 0)
            {
                ZoneBatch(path);
            }
        }
        return path;
    }

    /// <summary>
    /// A process's page: on a kernel of one CPU the zone's next frame; on an SMP kernel from this
    /// CPU's list of its node, refilled under the zone lock when empty, every CPU's lists drained
    /// back first if memory has no free page left (drain_all_pages, as an allocation does before
    /// it fails).
    /// </summary>
    public ulong Take(KernelPath path) =>
        TryTake(path, out ulong frame) ? frame : throw new InsufficientMemoryException($"Physical memory ({_memory.SizeBytes >> 20} MiB) is exhausted.");

    /// <summary>As <see cref="Take"/>; false when memory has no free page left (the fast path's work done all the same).</summary>
    public bool TryTake(KernelPath path, out ulong frame)
    {
        ArgumentNullException.ThrowIfNull(path);
        path.Run(KernelRoutine.PageAllocator);
        if (!Smp)
        {
            return _memory.TryAllocateFrame(0, out frame);
        }
        PerCpu cpu = _thisCpu!();
        if (!cpu.Pages!.TryTake(cpu.Node, out frame, out bool refilled))
        {
            foreach (PerCpu c in _cpus)
            {
                c.Pages!.DrainAll();
            }
            if (!cpu.Pages!.TryTake(cpu.Node, out frame, out refilled))
            {
                return false;
            }
        }
        if (refilled)
        {
            ZoneBatch(path);
        }
        return true;
    }

    /// <summary>A process's page back: on a kernel of one CPU to the zone; on an SMP kernel to this CPU's list of the page's node, a batch drained to the zone under its lock when the list is over its high mark.</summary>
    public void Give(KernelPath path, ulong frame)
    {
        ArgumentNullException.ThrowIfNull(path);
        path.Run(KernelRoutine.PageAllocator);
        if (!Smp)
        {
            _memory.FreeFrame(frame);
        }
        else if (_thisCpu!().Pages!.Give(frame))
        {
            ZoneBatch(path);
        }
    }

    /// <summary>
    /// A transparent huge page (an order-9 block): __alloc_pages' fast path, which takes a block
    /// this large from the zone's buddy lists under the zone lock (the per-CPU lists hold single
    /// pages only), from the asking CPU's node; false when no node has a free 2 MiB run
    /// (<see cref="PhysicalMemory.TryAllocateLargeFrame"/>).
    /// </summary>
    public bool TryTakeLarge(KernelPath path, out ulong frame)
    {
        ArgumentNullException.ThrowIfNull(path);
        path.Run(KernelRoutine.PageAllocator);
        if (!Smp)
        {
            return _memory.TryAllocateLargeFrame(0, out frame);
        }
        path.SpinLockIrqSave(_zoneLock).SpinUnlockIrqRestore(_zoneLock);
        return _memory.TryAllocateLargeFrame(_thisCpu!().Node, out frame);
    }

    /// <summary>A whole huge page back to the zone's buddy lists, under the zone lock on an SMP kernel (__free_pages of an order-9 block).</summary>
    public void GiveLarge(KernelPath path, ulong frame)
    {
        ArgumentNullException.ThrowIfNull(path);
        path.Run(KernelRoutine.PageAllocator);
        if (Smp)
        {
            path.SpinLockIrqSave(_zoneLock).SpinUnlockIrqRestore(_zoneLock);
        }
        _memory.FreeLargeFrame(frame);
    }

    private void ZoneBatch(KernelPath path)
    {
        path.SpinLockIrqSave(_zoneLock).Run(AddedRoutine.ZoneBatch).SpinUnlockIrqRestore(_zoneLock);
        _zoneBatches!.Increment();
    }
}
