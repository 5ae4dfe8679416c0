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

    public Core Core { get; }

    public RunQueue RunQueue { get; } = new();

    internal IOpStream Idle { get; }

    /// <summary>The physical address of the run queue lock's word, or 0 in a kernel of one CPU.</summary>
    internal ulong RunQueueLock { get; }

    /// <summary>Nothing running and nothing ready: the CPU sits in its idle loop.</summary>
    public bool IsIdle => RunQueue.Current is null && RunQueue.Count == 0;
}
