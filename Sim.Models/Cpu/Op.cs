namespace Sim.Models.Cpu;

/// <summary>
/// One operation of an instruction stream: a block of <see cref="Count"/> ordinary instructions
/// of one class, a load or store at a linear address, or a named instruction with its operand
/// (the value moved to CR3, the address INVLPG drops, the port of IN/OUT, the vector of INT n).
/// Workloads and kernel paths are sequences of these; a 16-byte struct, so streams allocate nothing.
/// </summary>
public readonly record struct Op(OpKind Kind, Instruction Instruction, int Count, ulong Operand)
{
    public static Op Alu(int count) => Block(OpKind.Alu, count);

    public static Op Branch(int count) => Block(OpKind.Branch, count);

    public static Op Multiply(int count) => Block(OpKind.Multiply, count);

    public static Op Divide(int count) => Block(OpKind.Divide, count);

    public static Op Load(ulong linearAddress) => new(OpKind.Load, default, 1, linearAddress);

    public static Op Store(ulong linearAddress) => new(OpKind.Store, default, 1, linearAddress);

    public static Op Execute(Instruction instruction, ulong operand = 0) => new(OpKind.Instruction, instruction, 1, operand);

    private static Op Block(OpKind kind, int count) =>
        count > 0 ? new(kind, default, count, 0) : throw new ArgumentOutOfRangeException(nameof(count), count, "A block holds at least one instruction.");
}
