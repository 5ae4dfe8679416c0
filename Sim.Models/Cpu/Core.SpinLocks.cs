using Sim.Engine.Statistics;

namespace Sim.Models.Cpu;

/// <summary>
/// Ticket spinlocks as Linux's x86 kernels of the 2.6.25-3.x era take them
/// (arch/x86/include/asm/spinlock.h, arch_spin_lock and arch_spin_unlock): the lock is one word
/// in memory, its low half the ticket being served (head) and its high half the next ticket
/// (tail). spin_lock takes a ticket with a locked XADD on the tail and, until the head reaches
/// it, spins: PAUSE, then a load of the word. spin_unlock adds one to the head with a plain store.
/// The word is real memory contents and every access goes through the MMU and the caches, so a
/// contended lock costs what the coherence protocol makes its line's transfers cost, and a
/// waiter spins on a shared copy until the holder's release invalidates it. Beside them, the
/// operations on synchronization words whose values the code decides by (XCHG, LOCK CMPXCHG, a
/// plain load or store: glibc's locks), and the kernel's locked add and interruptible wait.
/// Each reaches memory as the plain access it makes (<see cref="Access(in Op, CycleCategory, OpKind)"/>),
/// and is retried whole when that access faults or exits.
/// </summary>
/// <remarks>
/// Model: the spinning core takes no interrupts until it has the lock (as spin_lock_irqsave
/// would; a plain spin_lock spins with interrupts on). The word's contents are kept at its
/// host-physical address, so the virtual CPUs of one guest share them as they share the frame.
/// A core waits for its ticket in slices of the event engine: while it spins, the other cores
/// run up to its time, so the holder's release is seen in simulated-time order.
/// </remarks>
public sealed partial class Core
{
    private const ulong TicketHalf = 1UL << 32;

    private ulong? _ticket;       // the ticket this core waits with, while it spins
    private ulong _spinSince;     // the cycle its spin began
    private bool _waitingInterruptibly; // the pending operation is a SpinUntil round, which an interrupt may come before
    private readonly Dictionary<ulong, ulong> _heldSince = []; // lock word (physical) -> the cycle this core took it

    /// <summary>The holders of the kernel spinlocks of this core's machine, shared by all its contexts (a core standing alone keeps its own).</summary>
    public SpinLockHolders LockHolders { get; init; } = new();

    private readonly Counter _spinCycles;
    private readonly Counter _spinHolderPreempted;
    private readonly Counter _lockAcquisitions;
    private readonly Counter _lockContended;
    private readonly Histogram _lockWait;
    private readonly Histogram _lockHold;

    private void SpinLock(in Op op, CycleCategory mode)
    {
        if (_ticket is not { } ticket)
        {
            if (Access(op, mode, OpKind.Atomic) is not { } word)
            {
                return; // faulted or exited: retried after the handler
            }
            ulong value = Mmu.HostMemory.ReadUInt64(word);
            Mmu.HostMemory.WriteUInt64(word, value + TicketHalf); // XADD on the tail
            ticket = value >> 32;
            _lockAcquisitions.Increment();
            if ((value & 0xFFFF_FFFF) == ticket)
            {
                Took(word, ticket, waited: 0);
                return;
            }
            _lockContended.Increment();
            LockHolders.Waits(word, ticket, this);
            _ticket = ticket;
            _spinSince = _localCycle;
        }
        else
        {
            if (PauseLoopExits(op))
            {
                return; // a PAUSE-loop exit: the spin goes on after the handler
            }
            ulong round = _localCycle;
            Pause(mode);
            if (Access(op, mode, OpKind.Load) is not { } word)
            {
                return;
            }
            ulong head = Mmu.HostMemory.ReadUInt64(word) & 0xFFFF_FFFF;
            if (head == ticket)
            {
                _ticket = null;
                Took(word, ticket, waited: _localCycle - _spinSince);
                return;
            }
            CountSpin(word, head, _localCycle - round);
        }
        if (_sim.NextEventTime is null)
        {
            throw new InvalidOperationException($"Core {Path} spins on the lock at 0x{op.Operand:X} with nothing else left to run: no one can release it.");
        }
        _pending = op; // spin again, after the other cores have run up to this time
    }

    private void SpinUnlock(in Op op, CycleCategory mode)
    {
        if (Access(op, mode, OpKind.Store) is not { } word)
        {
            return;
        }
        ulong value = Mmu.HostMemory.ReadUInt64(word);
        if ((value & 0xFFFF_FFFF) == value >> 32 || !_heldSince.Remove(word, out ulong since))
        {
            throw new InvalidOperationException($"Core {Path} releases the lock at 0x{op.Operand:X}, which it does not hold.");
        }
        Mmu.HostMemory.WriteUInt64(word, (value & ~0xFFFF_FFFFUL) | ((value + 1) & 0xFFFF_FFFF)); // the head serves the next ticket
        LockHolders.Released(word);
        _lockHold.Record((long)(_localCycle - since));
    }

    /// <summary>A locked add to a word in memory (LOCK XADD), its contents changed when it executes; the stream that issued it is told the value the word held before.</summary>
    private void AtomicAdd(in Op op, CycleCategory mode)
    {
        if (Access(op, mode, OpKind.Atomic) is { } word)
        {
            ulong old = Mmu.HostMemory.ReadUInt64(word);
            Mmu.HostMemory.WriteUInt64(word, old + op.Value);
            _topStream!.Observed(old);
        }
    }

    /// <summary>
    /// XCHG, LOCK CMPXCHG, or a plain load or store, on a 32-bit word (a futex word: glibc's locks
    /// take and release with these), the low or high half of its 64-bit word; the stream that
    /// issued it is told the value the word held, except after a store.
    /// </summary>
    private void WordOperation(in Op op, CycleCategory mode)
    {
        OpKind access = op.Kind switch
        {
            OpKind.LoadWord => OpKind.Load,
            OpKind.StoreWord => OpKind.Store,
            _ => OpKind.Atomic,
        };
        if (Access(op, mode, access) is not { } address)
        {
            return; // faulted or exited: retried after the handler, and told then
        }
        ulong word = address & ~7UL;
        int shift = (int)(address & 4) * 8;
        ulong contents = Mmu.HostMemory.ReadUInt64(word);
        ulong old = (contents >> shift) & 0xFFFF_FFFF;
        if (op.Kind is OpKind.Exchange or OpKind.StoreWord || (op.Kind == OpKind.CompareExchange && old == op.Value >> 32))
        {
            Mmu.HostMemory.WriteUInt64(word, (contents & ~(0xFFFF_FFFFUL << shift)) | ((op.Value & 0xFFFF_FFFF) << shift));
        }
        if (op.Kind != OpKind.StoreWord)
        {
            _topStream!.Observed(old);
        }
    }

    /// <summary>One round of a wait for a word to reach a value: a load, and PAUSE if it has not; interrupts may come between rounds.</summary>
    private void SpinUntil(in Op op, CycleCategory mode)
    {
        _waitingInterruptibly = false;
        if (Access(op, mode, OpKind.Load) is not { } word || Mmu.HostMemory.ReadUInt64(word) >= op.Value)
        {
            return;
        }
        if (PauseLoopExits(op))
        {
            return; // a PAUSE-loop exit: the wait goes on after the handler
        }
        Pause(mode);
        if (_sim.NextEventTime is null)
        {
            throw new InvalidOperationException($"Core {Path} waits for the word at 0x{op.Operand:X} to reach {op.Value} with nothing else left to run.");
        }
        _pending = op;
        _waitingInterruptibly = true;
    }

    private void Took(ulong word, ulong ticket, ulong waited)
    {
        _heldSince[word] = _localCycle;
        LockHolders.Took(word, ticket, this);
        _lockWait.Record((long)waited);
    }

    /// <summary>PAUSE: its delay, and its end, from which PAUSE-loop exiting measures the gap to the next.</summary>
    private void Pause(CycleCategory mode)
    {
        Charge(mode, (ulong)_timing.InstructionCycles[Instruction.Pause]);
        _instructions.Increment();
        _pauseEnded = _localCycle;
    }

    /// <summary>
    /// One round, <paramref name="cycles"/> long, of a spin for the lock at <paramref name="word"/>
    /// that found its head at <paramref name="head"/>: spin time, and wasted spin time when the one
    /// the lock waits for (its holder, or the waiter whose turn it is) is a virtual CPU kept from
    /// its physical core (waiting for it, or parked by its cap): the lock cannot move on until it runs.
    /// </summary>
    private void CountSpin(ulong word, ulong head, ulong cycles)
    {
        _spinCycles.Add((long)cycles);
        if (LockHolders.Awaited(word, head) is { } holder && (holder.IsDescheduled || holder.WaitsForCredit))
        {
            _spinHolderPreempted.Add((long)cycles);
        }
    }
}
