namespace Sim.Models.Cpu;

/// <summary>
/// One operation of an instruction stream: a block of <see cref="Count"/> ordinary instructions
/// of one class, a load or store at a linear address, or a named instruction with its operand
/// (the value moved to CR3, the address INVLPG drops, the port of IN/OUT, the physical address
/// of an MMIO access, the vector of INT n) and, for OUT and MMIO writes, the value written.
/// Workloads and kernel paths are sequences of these; a small struct, so streams allocate nothing.
/// </summary>
public readonly record struct Op(OpKind Kind, Instruction Instruction, int Count, ulong Operand, ulong Value = 0)
{
    public static Op Alu(int count) => Block(OpKind.Alu, count);

    public static Op Branch(int count) => Block(OpKind.Branch, count);

    public static Op CallReturn(int pairs) => Block(OpKind.CallReturn, pairs);

    public static Op Multiply(int count) => Block(OpKind.Multiply, count);

    public static Op Divide(int count) => Block(OpKind.Divide, count);

    public static Op Load(ulong linearAddress) => new(OpKind.Load, default, 1, linearAddress);

    public static Op Store(ulong linearAddress) => new(OpKind.Store, default, 1, linearAddress);

    public static Op Atomic(ulong linearAddress) => new(OpKind.Atomic, default, 1, linearAddress);

    /// <summary>Takes the ticket spinlock whose word is at <paramref name="linearAddress"/>, spinning while another holds it (<see cref="OpKind.SpinLock"/>).</summary>
    public static Op SpinLock(ulong linearAddress) => new(OpKind.SpinLock, default, 1, linearAddress);

    /// <summary>Releases the ticket spinlock whose word is at <paramref name="linearAddress"/> (<see cref="OpKind.SpinUnlock"/>).</summary>
    public static Op SpinUnlock(ulong linearAddress) => new(OpKind.SpinUnlock, default, 1, linearAddress);

    /// <summary>Adds <paramref name="delta"/> to the word at <paramref name="linearAddress"/> with a locked instruction (<see cref="OpKind.AtomicAdd"/>).</summary>
    public static Op AtomicAdd(ulong linearAddress, ulong delta) => new(OpKind.AtomicAdd, default, 1, linearAddress, delta);

    /// <summary>Spins until the word at <paramref name="linearAddress"/> reaches <paramref name="value"/>, interruptibly (<see cref="OpKind.SpinUntil"/>).</summary>
    public static Op SpinUntil(ulong linearAddress, ulong value) => new(OpKind.SpinUntil, default, 1, linearAddress, value);

    /// <summary>Exchanges the 32-bit word at <paramref name="linearAddress"/> with <paramref name="value"/> (<see cref="OpKind.Exchange"/>).</summary>
    public static Op Exchange(ulong linearAddress, uint value) => new(OpKind.Exchange, default, 1, linearAddress, value);

    /// <summary>Sets the 32-bit word at <paramref name="linearAddress"/> to <paramref name="desired"/> if it holds <paramref name="expected"/> (<see cref="OpKind.CompareExchange"/>).</summary>
    public static Op CompareExchange(ulong linearAddress, uint expected, uint desired) =>
        new(OpKind.CompareExchange, default, 1, linearAddress, ((ulong)expected << 32) | desired);

    /// <summary>Loads the 32-bit word at <paramref name="linearAddress"/> and tells the stream its value (<see cref="OpKind.LoadWord"/>).</summary>
    public static Op LoadWord(ulong linearAddress) => new(OpKind.LoadWord, default, 1, linearAddress);

    /// <summary>Stores <paramref name="value"/> to the 32-bit word at <paramref name="linearAddress"/> (<see cref="OpKind.StoreWord"/>).</summary>
    public static Op StoreWord(ulong linearAddress, uint value) => new(OpKind.StoreWord, default, 1, linearAddress, value);

    /// <summary>Control enters the line of code at <paramref name="linearAddress"/>, reached as <paramref name="entry"/> says (kept in <see cref="Value"/>).</summary>
    public static Op Fetch(ulong linearAddress, ControlTransfer entry = ControlTransfer.Sequential) => new(OpKind.Fetch, default, 1, linearAddress, (ulong)entry);

    /// <summary>How control reached the line of a <see cref="OpKind.Fetch"/>.</summary>
    public ControlTransfer Entry => (ControlTransfer)Value;

    /// <summary>A kernel routine's RET goes back to its caller (<see cref="OpKind.Return"/>).</summary>
    public static Op Return() => new(OpKind.Return, default, 0, 0);

    public static Op Execute(Instruction instruction, ulong operand = 0) => new(OpKind.Instruction, instruction, 1, operand);

    public static Op In(ushort port) => Execute(Instruction.In, port);

    public static Op Out(ushort port, ulong value) => new(OpKind.Instruction, Instruction.Out, 1, port, value);

    /// <summary>A read of device memory at <paramref name="physicalAddress"/> (device pages are mapped uncached; their translation is not simulated).</summary>
    public static Op MmioRead(ulong physicalAddress) => Execute(Instruction.MmioRead, physicalAddress);

    public static Op MmioWrite(ulong physicalAddress, ulong value) => new(OpKind.Instruction, Instruction.MmioWrite, 1, physicalAddress, value);

    /// <summary>Charges the rest of a hypervisor handler to <paramref name="category"/> (<see cref="OpKind.Account"/>); executes nothing.</summary>
    public static Op ChargeTo(CycleCategory category) => new(OpKind.Account, default, (int)category, 0);

    /// <summary>The context stops here, its physical core handed to another virtual CPU (<see cref="OpKind.Park"/>), for <paramref name="reason"/>.</summary>
    public static Op Park(ParkReason reason) => new(OpKind.Park, default, (int)reason, 0);

    /// <summary>Back from monitor code to the translated code that called it (<see cref="OpKind.Resume"/>).</summary>
    public static Op Resume() => new(OpKind.Resume, default, 0, 0);

    private static Op Block(OpKind kind, int count) =>
        count > 0 ? new(kind, default, count, 0) : throw new ArgumentOutOfRangeException(nameof(count), count, "A block holds at least one instruction.");
}
