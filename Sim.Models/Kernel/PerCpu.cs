using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's data of one CPU, as Linux keeps it in per-CPU areas: the core it runs on, its run
/// queue (the running process and the ready ones), its idle thread, and the word of its run
/// queue's spinlock (kernel memory; none in a kernel of one CPU, which, as a Linux kernel built
/// without SMP, has no spinlocks).
/// </summary>
public sealed class PerCpu
{
    internal PerCpu(int index, Core core, IOpStream idle, ulong runQueueLock)
    {
        Index = index;
        Core = core;
        Idle = idle;
        RunQueueLock = runQueueLock;
    }

    /// <summary>The CPU's number (its local APIC's ID).</summary>
    public int Index { get; }

    /// <summary>The NUMA node (socket) the CPU sits on: where the pages it touches first come from.</summary>
    public int Node { get; init; }

    public Core Core { get; }

    public RunQueue RunQueue { get; } = new();

    internal IOpStream Idle { get; }

    /// <summary>The physical address of the run queue lock's word, or 0 in a kernel of one CPU.</summary>
    internal ulong RunQueueLock { get; }

    /// <summary>The address space whose page tables the CPU has loaded (kept while it idles: lazy TLB), or null before the first.</summary>
    internal MemoryDescriptor? LoadedMm { get; set; }

    /// <summary>The physical address of the word other CPUs acknowledge this CPU's TLB flush requests on (a count), or 0 in a kernel of one CPU.</summary>
    internal ulong FlushAcks { get; init; }

    /// <summary>TLB flushes other CPUs asked of this one and it has not done yet: the address space, its pages, and the word to acknowledge on.</summary>
    internal Queue<(MemoryDescriptor Mm, List<ulong> Pages, ulong Ack)> FlushRequests { get; } = new();

    /// <summary>The physical address of the CPU's struct kvm_steal_time, registered with the hypervisor when it offers PV TLB flush; null otherwise.</summary>
    internal ulong? StealTime { get; init; }

    /// <summary>The CPU's free-page lists (an SMP kernel's; null in a kernel of one CPU).</summary>
    internal PerCpuPages? Pages { get; init; }

    /// <summary>Pages outside the lists this CPU's page allocator took or gave back (page tables, task structures): every pcp->batch of them, a batch moves under the zone lock.</summary>
    internal long PageAllocatorCalls { get; set; }

    /// <summary>Nothing running and nothing ready: the CPU sits in its idle loop.</summary>
    public bool IsIdle => RunQueue.Current is null && RunQueue.Count == 0;
}
