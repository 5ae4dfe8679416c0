namespace Sim.Models.Virtualization;

/// <summary>
/// The Xen hypercalls a paravirtual guest kernel of the model makes, with their numbers in Xen's
/// public interface (xen/include/public/xen.h, __HYPERVISOR_*).
/// </summary>
public enum XenHypercall
{
    /// <summary>Validated updates of page-table entries, batched.</summary>
    MmuUpdate = 1,

    /// <summary>Return from the guest kernel to the interrupted context (x86-64 PV kernels return to user mode through Xen).</summary>
    Iret = 23,

    /// <summary>Extended MMU operations: a new base pointer (CR3), INVLPG, a TLB flush.</summary>
    MmuextOp = 26,

    /// <summary>Scheduler operations: block until an event arrives (the idle loop's HLT).</summary>
    SchedOp = 29,

    /// <summary>Event-channel operations: send an event (a split driver's notification of its backend).</summary>
    EventChannelOp = 32,
}

/// <summary>How a hypercall and its arguments travel in one operand: the number in bits 7:0, a sub-operation in bits 11:8, and a page-aligned address (or a count, shifted to bit 12) in bits 63:12.</summary>
public static class Hypercall
{
    /// <summary>The sub-operations of <see cref="XenHypercall.MmuextOp"/> the model uses (MMUEXT_NEW_BASEPTR 5, MMUEXT_TLB_FLUSH_LOCAL 6, MMUEXT_INVLPG_LOCAL 7).</summary>
    public const ulong NewBasePointer = 5, TlbFlushLocal = 6, InvlpgLocal = 7;

    /// <summary>SCHEDOP_block.</summary>
    public const ulong Block = 1;

    /// <summary>EVTCHNOP_send.</summary>
    public const ulong Send = 4;

    public static ulong Encode(XenHypercall call, ulong pageAlignedArgument = 0, ulong subOperation = 0) =>
        (pageAlignedArgument & ~0xFFFUL) | ((subOperation & 0xF) << 8) | (ulong)call;

    /// <summary>An argument that is a count, placed where <see cref="Encode"/> takes an address.</summary>
    public static ulong Count(int count) => (ulong)count << 12;

    public static (XenHypercall Call, ulong Argument, ulong SubOperation) Decode(ulong operand) =>
        ((XenHypercall)(operand & 0xFF), operand & ~0xFFFUL, (operand >> 8) & 0xF);
}
