namespace Sim.Models.Cpu;

/// <summary>What an operation of an instruction stream is.</summary>
public enum OpKind : byte
{
    /// <summary>A block of simple integer instructions (add, move, compare, logic).</summary>
    Alu,

    /// <summary>A block of branches.</summary>
    Branch,

    /// <summary>A block of call/return pairs (a call to a subroutine that returns at once).</summary>
    CallReturn,

    /// <summary>A block of integer multiplies.</summary>
    Multiply,

    /// <summary>A block of integer divides.</summary>
    Divide,

    /// <summary>One load from a linear address.</summary>
    Load,

    /// <summary>One store to a linear address.</summary>
    Store,

    /// <summary>
    /// One locked read-modify-write of a linear address (LOCK ADD/INC/DEC/XADD/CMPXCHG, XCHG with
    /// memory): a fence that waits for buffered stores, then a read for ownership.
    /// </summary>
    Atomic,

    /// <summary>
    /// Control enters the code at a linear address (a call or jump into a code page): the
    /// instruction fetch goes through the ITLB and the instruction cache and can fault. The
    /// instructions executed there are the blocks that follow.
    /// </summary>
    Fetch,

    /// <summary>One named privileged or sensitive instruction (<see cref="Cpu.Instruction"/>).</summary>
    Instruction,

    /// <summary>
    /// No instruction: from here on, a hypervisor handler's cycles are charged to the category in
    /// <see cref="Op.Count"/> (a handler marks where its device model starts and ends).
    /// </summary>
    Account,

    /// <summary>
    /// No instruction: a hypervisor's scheduler has handed the physical core to another virtual
    /// CPU, and this one's context stops here until it is handed the core back
    /// (<see cref="Core.Reschedule"/>). <see cref="Op.Count"/> says why, a <see cref="ParkReason"/>.
    /// </summary>
    Park,

    /// <summary>
    /// No instruction: control goes back from monitor code that translated code called (a
    /// callout's return, or the end of an emulation inlined in the translation cache) to the
    /// translated code after the call. Leaves the top frame as IRET does but costs nothing of its
    /// own: the jump back is an ordinary instruction of the block before it, and no interrupt
    /// frame is popped because none was pushed.
    /// </summary>
    Resume,

    /// <summary>
    /// No instruction of its own: the RET that ends a kernel routine (counted in the routine's
    /// last block) goes back to the caller. Natively nothing more; in a binary translator's
    /// translated code a return cannot be chained and looks its target up
    /// (<see cref="ControlTransfer"/>).
    /// </summary>
    Return,

    /// <summary>
    /// spin_lock on the ticket lock whose word is at <see cref="Op.Operand"/>: a locked XADD takes
    /// a ticket, then the core spins (PAUSE and a load of the word) until the lock serves it.
    /// </summary>
    SpinLock,

    /// <summary>spin_unlock of the ticket lock whose word is at <see cref="Op.Operand"/>: a store that serves the next ticket.</summary>
    SpinUnlock,

    /// <summary>A locked add of <see cref="Op.Value"/> to the word at <see cref="Op.Operand"/> (LOCK XADD): an acknowledgement another CPU waits for, or a count threads share; the stream is told the word's old value.</summary>
    AtomicAdd,

    /// <summary>
    /// Spins (PAUSE and a load) until the word at <see cref="Op.Operand"/> reaches
    /// <see cref="Op.Value"/>, taking interrupts meanwhile: how a CPU waits for other CPUs to
    /// acknowledge a cross-CPU call (smp_call_function_many waits with interrupts on).
    /// </summary>
    SpinUntil,

    /// <summary>
    /// XCHG of a 32-bit word in memory (the low half of the 64-bit word at <see cref="Op.Operand"/>)
    /// with <see cref="Op.Value"/>: a locked read-modify-write whose old value the stream is told
    /// (<see cref="IOpStream.Observed"/>), as a register would receive it.
    /// </summary>
    Exchange,

    /// <summary>
    /// LOCK CMPXCHG of a 32-bit word in memory (the low half of the 64-bit word at
    /// <see cref="Op.Operand"/>): it becomes the low half of <see cref="Op.Value"/> if it holds the
    /// high half; the stream is told the value it held (<see cref="IOpStream.Observed"/>).
    /// </summary>
    CompareExchange,

    /// <summary>
    /// A load of a 32-bit word (the low or high half of the 64-bit word at <see cref="Op.Operand"/>)
    /// whose value the stream is told (<see cref="IOpStream.Observed"/>): code that reads a
    /// synchronization word and decides by it (atomic_load in glibc's locks and pthread_join).
    /// </summary>
    LoadWord,

    /// <summary>
    /// A plain store of <see cref="Op.Value"/> to a 32-bit word (the low or high half of the 64-bit
    /// word at <see cref="Op.Operand"/>), its contents changed: a lock's release by a store.
    /// </summary>
    StoreWord,
}
