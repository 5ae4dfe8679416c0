namespace Sim.Models.Cpu;

/// <summary>
/// How control reached a line of code (<see cref="Op.Fetch"/>): natively all the same, but a
/// binary translator's translated code reconnects each kind differently (Adams and Agesen,
/// ASPLOS 2006, section 3.2): a fall-through and a direct transfer are chained straight to the
/// target's translation, an indirect one looks its target up every time.
/// </summary>
public enum ControlTransfer : byte
{
    /// <summary>Straight on from the line before (the same routine's next line).</summary>
    Sequential,

    /// <summary>A direct call: a routine entered from its caller.</summary>
    DirectCall,

    /// <summary>A direct jump: a loop's back edge to the start of its body.</summary>
    DirectJump,

    /// <summary>An indirect call through a pointer in memory (a system call's handler through the system-call table).</summary>
    IndirectCall,
}
