using Sim.Models.Virtualization;

namespace Sim.Models.Cpu;

/// <summary>
/// One row of the instruction table: whether the instruction is privileged (faults outside ring
/// 0, or outside IOPL for the I/O-sensitive ones), whether it is sensitive in Popek and
/// Goldberg's sense, what it does deprivileged without VT-x, and what VT-x does with it.
/// </summary>
/// <param name="Control">The VM-execution control (or mechanism) that decides the exit, when it exits under a control.</param>
/// <param name="Exit">The exit reason, when it can exit.</param>
/// <param name="Note">Why, with the source.</param>
public sealed record InstructionInfo(
    Instruction Instruction,
    string Mnemonic,
    bool Privileged,
    bool Sensitive,
    DeprivilegedBehaviour Deprivileged,
    VtxBehaviour Vtx,
    string? Control,
    ExitReason? Exit,
    string Note)
{
    /// <summary>Sensitive but not privileged: the instructions that make classic x86 fail Popek and Goldberg's condition.</summary>
    public bool IsVirtualizationHole => Sensitive && Deprivileged == DeprivilegedBehaviour.MisbehavesSilently;
}
