using Sim.Models.Cpu;

namespace Sim.Models.Virtualization;

/// <summary>
/// One VM exit as the hypervisor reads it from the VMCS: the basic exit reason, the instruction
/// (for instruction exits) with its operand (a port, an address, a CR3 value), the exception
/// vector and fault address (for exception exits) or the interrupt vector (for external
/// interrupts), and for a hypercall that names a virtual CPU (KVM_HC_KICK_CPU's APIC ID) the
/// context that virtual CPU runs in.
/// </summary>
public readonly record struct VmExit(ExitReason Reason, Instruction? Instruction = null, ulong Operand = 0, ulong Value = 0, int Vector = -1, ulong FaultAddress = 0,
    Core? Target = null)
{
    /// <summary>An HLT exit's <see cref="Value"/> when the guest halted with its interrupts off (RFLAGS.IF clear, as the hypervisor reads it from the VMCS): only a kick wakes it (KVM's kvm_arch_interrupt_allowed).</summary>
    public const ulong InterruptsBlocked = 1;
}
