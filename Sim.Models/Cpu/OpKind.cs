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

    /// <summary>One named privileged or sensitive instruction (<see cref="Cpu.Instruction"/>).</summary>
    Instruction,
}
