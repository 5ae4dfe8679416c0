using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// A kernel code path being assembled as operations: bookkeeping instructions, loads and stores
/// through the direct map, whole-page zeroing and copying, and the privileged operations that
/// <see cref="IPrivilegedOperations"/> contributes. The kernel performs the path's effects on
/// memory as it builds it; the core then executes the operations for their cost.
/// </summary>
/// <param name="text">The kernel's code and its routines' lock lines.</param>
/// <param name="operations">The privileged operations, native or paravirtual.</param>
/// <param name="cpu">The CPU the path runs on: its routines' locked operations work on that CPU's lines.</param>
public sealed class KernelPath(KernelText text, IPrivilegedOperations operations, int cpu = 0)
{
    private const int LineBytes = KernelObjects.LineBytes;
    private const int PageBytes = Memory.PhysicalMemory.FrameBytes;
    private readonly List<Op> _ops = [];

    public int Count => _ops.Count;

    /// <summary>Page-table updates a paravirtual kernel has queued on this path and not yet sent to the hypervisor.</summary>
    public int PendingPageTableUpdates { get; set; }

    /// <summary>
    /// Runs <paramref name="routine"/> <paramref name="times"/> times: each line of its code is
    /// fetched (through the ITLB and instruction cache) and its instructions executed as an
    /// ordinary block; its locked operations (on the routine's lock line) and its
    /// interrupt-disabled sections (each around one line's work) are spread evenly over the lines.
    /// </summary>
    public KernelPath Run(KernelRoutine routine, int times = 1) =>
        Run(text.AddressOf(routine), text.LockOf(routine, cpu), text.Costs[routine], text.Lines(routine), times);

    /// <summary>Runs an added routine (<see cref="AddedRoutine"/>), as <see cref="Run(KernelRoutine, int)"/>.</summary>
    public KernelPath Run(AddedRoutine routine) => Run(text.Added, routine, text.Costs[routine]);

    /// <summary>Runs a reclaim routine (<see cref="ReclaimRoutine"/>), as <see cref="Run(KernelRoutine, int)"/>.</summary>
    public KernelPath Run(ReclaimRoutine routine) => Run(text.Reclaim, routine, text.Costs[routine]);

    /// <summary>Runs a transparent huge page routine (<see cref="HugePageRoutine"/>) <paramref name="times"/> times, as <see cref="Run(KernelRoutine, int)"/>.</summary>
    public KernelPath Run(HugePageRoutine routine, int times = 1) => Run(text.HugePages, routine, text.Costs[routine], times);

    /// <summary>Runs a swap routine (<see cref="SwapRoutine"/>), as <see cref="Run(KernelRoutine, int)"/>.</summary>
    public KernelPath Run(SwapRoutine routine) => Run(text.Swap, routine, text.Costs[routine]);

    /// <summary>Runs a bridged network's routine (<see cref="BridgeRoutine"/>), as <see cref="Run(KernelRoutine, int)"/>.</summary>
    public KernelPath Run(BridgeRoutine routine) => Run(text.Bridge, routine, text.Costs[routine]);

    /// <summary>Runs an asynchronous I/O routine (<see cref="AioRoutine"/>), as <see cref="Run(KernelRoutine, int)"/>.</summary>
    public KernelPath Run(AioRoutine routine) => Run(text.Aio, routine, text.Costs[routine]);

    /// <summary>Runs a NAT netfilter routine (<see cref="NatRoutine"/>), as <see cref="Run(KernelRoutine, int)"/>.</summary>
    public KernelPath Run(NatRoutine routine) => Run(text.Nat, routine, text.Costs[routine]);

    /// <summary>A routine of a block laid out after the boot-time text: its code and its lock line are the block's.</summary>
    private KernelPath Run<TRoutine>(LaterRoutines<TRoutine> block, TRoutine routine, RoutineCost cost, int times = 1)
        where TRoutine : struct, Enum =>
        Run(block.Code.AddressOf(routine), block.LockOf(routine), cost, block.Code.Lines(routine), times);

    /// <summary>The next routine run is called through a pointer (the system-call table's), not directly.</summary>
    public KernelPath ThroughPointer()
    {
        _indirectNext = true;
        return this;
    }

    private bool _indirectNext;

    /// <summary>
    /// A routine's run: called (directly, or through a pointer after <see cref="ThroughPointer"/>),
    /// its lines in order, each repetition a jump back to its first line, and a return at the end.
    /// </summary>
    private KernelPath Run(ulong codeAddress, ulong lockAddress, RoutineCost cost, int lines, int times)
    {
        ulong code = DirectMap.Of(codeAddress);
        ulong lockLine = DirectMap.Of(lockAddress);
        ControlTransfer call = _indirectNext ? ControlTransfer.IndirectCall : ControlTransfer.DirectCall;
        _indirectNext = false;
        for (int t = 0; t < times; t++)
        {
            for (int line = 0; line < lines; line++)
            {
                int done = line * KernelText.InstructionsPerLine;
                int disables = Share(cost.InterruptDisables, line, lines);
                for (int d = 0; d < disables; d++)
                {
                    operations.DisableInterrupts(this);
                }
                ControlTransfer entry = line > 0 ? ControlTransfer.Sequential : t == 0 ? call : ControlTransfer.DirectJump;
                _ops.Add(Op.Fetch(code + (ulong)(line * LineBytes), entry));
                _ops.Add(Op.Alu(Math.Min(KernelText.InstructionsPerLine, cost.Instructions - done)));
                for (int a = Share(cost.LockedOperations, line, lines); a > 0; a--)
                {
                    _ops.Add(Op.Atomic(lockLine));
                }
                for (int d = 0; d < disables; d++)
                {
                    operations.RestoreInterrupts(this);
                }
            }
        }
        if (times > 0)
        {
            _ops.Add(Op.Return());
        }
        return this;
    }

    /// <summary>How many of <paramref name="total"/> events fall on line <paramref name="line"/> of <paramref name="lines"/>, spread evenly.</summary>
    private static int Share(int total, int line, int lines) => (int)(((long)(line + 1) * total / lines) - ((long)line * total / lines));

    public KernelPath Load(ulong physicalAddress)
    {
        _ops.Add(Op.Load(DirectMap.Of(physicalAddress)));
        return this;
    }

    public KernelPath Store(ulong physicalAddress)
    {
        _ops.Add(Op.Store(DirectMap.Of(physicalAddress)));
        return this;
    }

    /// <summary>spin_lock on the ticket lock whose word is at <paramref name="physicalAddress"/>, through the direct map (<see cref="OpKind.SpinLock"/>).</summary>
    public KernelPath SpinLock(ulong physicalAddress) => Execute(Op.SpinLock(DirectMap.Of(physicalAddress)));

    /// <summary>spin_unlock of the ticket lock whose word is at <paramref name="physicalAddress"/>.</summary>
    public KernelPath SpinUnlock(ulong physicalAddress) => Execute(Op.SpinUnlock(DirectMap.Of(physicalAddress)));

    /// <summary>
    /// spin_lock_irqsave: interrupts off on this CPU (local_irq_save), then the lock, for locks an
    /// interrupt handler also takes (the run queues', the zone's): a handler that came in under
    /// the holder would spin on its own CPU's lock for ever.
    /// </summary>
    public KernelPath SpinLockIrqSave(ulong physicalAddress)
    {
        operations.DisableInterrupts(this);
        return SpinLock(physicalAddress);
    }

    /// <summary>spin_unlock_irqrestore: the lock released, then the interrupt flag as it was.</summary>
    public KernelPath SpinUnlockIrqRestore(ulong physicalAddress)
    {
        SpinUnlock(physicalAddress);
        operations.RestoreInterrupts(this);
        return this;
    }

    /// <summary>A locked read-modify-write (an atomic counter or bit operation) through the direct map.</summary>
    public KernelPath Atomic(ulong physicalAddress)
    {
        _ops.Add(Op.Atomic(DirectMap.Of(physicalAddress)));
        return this;
    }

    /// <summary>Clears a 4 KiB frame: one store per cache line (a string store writes whole lines).</summary>
    public KernelPath ZeroPage(ulong frame) => ZeroLines(frame, PageBytes / LineBytes);

    /// <summary>Clears <paramref name="lines"/> cache lines from <paramref name="physicalAddress"/>, one store per line.</summary>
    public KernelPath ZeroLines(ulong physicalAddress, int lines) => StoreRange(DirectMap.Of(physicalAddress), lines * LineBytes);

    /// <summary>Copies a 4 KiB frame line by line.</summary>
    public KernelPath CopyPage(ulong from, ulong to) => CopyLines(from, to, PageBytes / LineBytes);

    /// <summary>Copies <paramref name="lines"/> cache lines (a memcpy of a kernel object), a load and a store per line.</summary>
    public KernelPath CopyLines(ulong from, ulong to, int lines) => CopyRange(DirectMap.Of(from), DirectMap.Of(to), lines * LineBytes);

    /// <summary>
    /// One store per cache line of <paramref name="bytes"/> bytes from a linear address: a user
    /// buffer (clear_user, copy_to_user) reached through the current page tables, or the direct map.
    /// </summary>
    public KernelPath StoreRange(ulong linearAddress, long bytes)
    {
        for (long offset = 0; offset < bytes; offset += LineBytes)
        {
            _ops.Add(Op.Store(linearAddress + (ulong)offset));
        }
        return this;
    }

    /// <summary>One load per cache line of <paramref name="bytes"/> bytes from a linear address (copy_from_user, reading a frame back).</summary>
    public KernelPath LoadRange(ulong linearAddress, long bytes)
    {
        for (long offset = 0; offset < bytes; offset += LineBytes)
        {
            _ops.Add(Op.Load(linearAddress + (ulong)offset));
        }
        return this;
    }

    /// <summary>Copies <paramref name="bytes"/> bytes between linear addresses, a load and a store per line.</summary>
    public KernelPath CopyRange(ulong fromLinear, ulong toLinear, long bytes)
    {
        for (long offset = 0; offset < bytes; offset += LineBytes)
        {
            _ops.Add(Op.Load(fromLinear + (ulong)offset));
            _ops.Add(Op.Store(toLinear + (ulong)offset));
        }
        return this;
    }

    public KernelPath Execute(Op op)
    {
        _ops.Add(op);
        return this;
    }

    public OpSequence ToStream() => new([.. _ops]);
}
