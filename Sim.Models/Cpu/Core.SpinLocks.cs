using Sim.Engine.Statistics;
using Sim.Models.Virtualization;

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
/// <para>
/// Paravirtual spinlocks (<see cref="PvSpinThreshold"/>), as KVM's guests take ticket locks with
/// CONFIG_PARAVIRT_SPINLOCKS (Linux 3.12 to 4.1: arch/x86/include/asm/spinlock.h,
/// __ticket_lock_spinning and __ticket_unlock_kick; arch/x86/kernel/kvm.c, kvm_lock_spinning and
/// kvm_unlock_kick): a waiter that has spun SPIN_THRESHOLD rounds records the lock and its ticket
/// in its CPU's klock_waiting, looks at the lock once more, and halts (HLT, an exit that blocks
/// its virtual CPU). The unlock that serves a halted waiter's ticket finds it among the waiting
/// CPUs and kicks it with the KVM_HC_KICK_CPU hypercall (VMCALL), which unhalts it; it then
/// spins on, and finds the lock its own.
/// </para>
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

    /// <summary>Linux's SPIN_THRESHOLD, 1 &lt;&lt; 15 rounds (arch/x86/include/asm/spinlock.h): how long a paravirtual waiter spins before it halts.</summary>
    public const int LinuxSpinThreshold = 1 << 15;

    /// <summary>
    /// kvm_lock_spinning's work before the halt (the per-CPU klock_waiting written, the CPU set in
    /// waiting_cpus, interrupts saved), and kvm_unlock_kick's search of the waiting CPUs for the
    /// one whose ticket is now served: instructions each, assumed (a few dozen in the source).
    /// </summary>
    private const int PvWaitInstructions = 30, PvKickSearchInstructions = 20;

    /// <summary>KVM_HC_KICK_CPU (include/uapi/linux/kvm_para.h): the hypercall that unhalts a virtual CPU halted for a lock.</summary>
    public const ulong KickCpuHypercall = 5;

    /// <summary>
    /// In a guest under VT-x whose kernel uses paravirtual spinlocks: the rounds a waiter spins
    /// before it halts until the unlocker kicks it (<see cref="LinuxSpinThreshold"/>); 0 (the
    /// default) for plain ticket locks, which spin until they have the lock.
    /// </summary>
    public int PvSpinThreshold { get; set; }

    private int _spinRounds;      // rounds of the current spin since it began or last woke from a PV halt
    private bool _pvHalted;       // the current spin halted for its lock and has not spun since
    private ulong _spinWord;      // the physical address of the lock word the current spin waits on

    private ulong? _ticket;       // the ticket this core waits with, while it spins
    private ulong _spinSince;     // the cycle its spin began
    private bool _waitingInterruptibly; // the pending operation is a SpinUntil round, which an interrupt may come before
    private readonly Dictionary<ulong, ulong> _heldSince = []; // lock word (physical) -> the cycle this core took it

    /// <summary>The holders of the kernel spinlocks of this core's machine, shared by all its contexts (a core standing alone keeps its own).</summary>
    public SpinLockHolders LockHolders { get; init; } = new();

    private readonly Counter _pvHalts;
    private readonly Counter _pvKicks;
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
            (_ticket, _spinWord, _spinRounds) = (ticket, word, 0);
            _spinSince = _localCycle;
        }
        else
        {
            if (PauseLoopExits(op))
            {
                return; // a PAUSE-loop exit: the spin goes on after the handler
            }
            ulong round = _localCycle;
            if (_pvHalted)
            {
                _pvHalted = false;
                LockHolders.Woke(_spinWord, ticket); // kvm_lock_spinning's end: off the waiting CPUs
            }
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
            if (PvSpinThreshold > 0 && _vmxMode == VmxMode.NonRoot && ++_spinRounds >= PvSpinThreshold)
            {
                PvHalt(op, word, ticket, mode);
                return;
            }
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
        ulong next = (value + 1) & 0xFFFF_FFFF;
        Mmu.HostMemory.WriteUInt64(word, (value & ~0xFFFF_FFFFUL) | next); // the head serves the next ticket
        LockHolders.Released(word);
        _lockHold.Record((long)(_localCycle - since));
        if (LockHolders.HaltedWith(word, next) is { } waiter && _vmxMode == VmxMode.NonRoot)
        {
            // __ticket_unlock_kick: the next ticket's waiter is halted; kvm_unlock_kick finds it
            // among the waiting CPUs and kicks it by hypercall.
            Block(mode, PvKickSearchInstructions, _timing.AluMilliCycles);
            _instructions.Increment(); // the VMCALL
            _pvKicks.Increment();
            EnterRoot(new VmExit(ExitReason.Vmcall, Instruction.Vmcall, KickCpuHypercall, Target: waiter), faulting: null);
        }
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

    /// <summary>
    /// kvm_lock_spinning: the waiter records its lock and ticket where the unlocker will look, looks
    /// at the lock once more (taking it if it is now its turn), and otherwise halts; the HLT exits
    /// and the hypervisor blocks the virtual CPU until a kick (or an interrupt) unhalts it, after
    /// which the spin goes on from a fresh count.
    /// </summary>
    private void PvHalt(in Op op, ulong word, ulong ticket, CycleCategory mode)
    {
        _spinRounds = 0;
        Block(mode, PvWaitInstructions, _timing.AluMilliCycles);
        LockHolders.Halts(word, ticket);
        if (Access(op, mode, OpKind.Load) is null)
        {
            LockHolders.Woke(word, ticket);
            return; // exited: the spin goes on after the handler
        }
        if ((Mmu.HostMemory.ReadUInt64(word) & 0xFFFF_FFFF) == ticket)
        {
            LockHolders.Woke(word, ticket);
            _ticket = null;
            Took(word, ticket, waited: _localCycle - _spinSince);
            return;
        }
        _pvHalted = true;
        _pvHalts.Increment();
        _instructions.Increment(); // the HLT
        EnterRoot(new VmExit(ExitReason.Hlt, Instruction.Hlt, Value: VmExit.InterruptsBlocked), faulting: op, after: op); // halted as it spins: with interrupts off
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
