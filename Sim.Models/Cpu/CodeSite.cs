namespace Sim.Models.Cpu;

/// <summary>
/// An instruction's place in the code, as far as operation streams know it: the line of code it
/// is in (<see cref="Line"/>, the linear address control last entered) and which data access
/// after that entry, or after the last branch back within the line, it makes (<see cref="Access"/>, from 1).
/// </summary>
public readonly record struct CodeSite(ulong Line, int Access);
