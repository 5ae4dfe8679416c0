using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// The privileged operations of the kernel, kept behind one small interface so that one kernel
/// serves natively and, with another implementation, paravirtualized (hypercalls and batched
/// page-table updates instead of privileged instructions) without copying its paths.
/// </summary>
public interface IPrivilegedOperations
{
    /// <summary>Switches to the address space rooted at <paramref name="cr3"/>.</summary>
    void SwitchAddressSpace(KernelPath path, ulong cr3);

    /// <summary>Writes the page-table entry at <paramref name="ptePhysicalAddress"/> (the kernel has already changed the memory).</summary>
    void UpdatePageTableEntry(KernelPath path, ulong ptePhysicalAddress);

    /// <summary>Drops the TLB entry of one page of the current address space.</summary>
    void FlushTlbPage(KernelPath path, ulong linearAddress);

    /// <summary>Drops every non-global TLB entry of the current address space (rooted at <paramref name="cr3"/>).</summary>
    void FlushTlb(KernelPath path, ulong cr3);

    /// <summary>Saves the interrupt flag and disables interrupts (local_irq_save, and spin_lock_irqsave's first half).</summary>
    void DisableInterrupts(KernelPath path);

    /// <summary>Restores the interrupt flag saved by the matching <see cref="DisableInterrupts"/> (local_irq_restore).</summary>
    void RestoreInterrupts(KernelPath path);

    /// <summary>Acknowledges the interrupt being handled.</summary>
    void EndOfInterrupt(KernelPath path);

    /// <summary>Returns from a system call (or from the kernel's entry into a new or resumed thread).</summary>
    void ReturnFromSyscall(KernelPath path);

    /// <summary>Returns from an exception or interrupt.</summary>
    void ReturnFromInterrupt(KernelPath path);

    /// <summary>Sends the inter-processor interrupt <paramref name="vector"/> to CPU <paramref name="cpu"/> (its local APIC's ID).</summary>
    void SendInterprocessorInterrupt(KernelPath path, int cpu, int vector);

    /// <summary>The idle loop: wait for an interrupt, forever (a kernel thread at ring 0).</summary>
    IOpStream IdleLoop();

    /// <summary>Notifies a paravirtual device of new requests on its queue <paramref name="queue"/> (a virtqueue kick) through its notification register at <paramref name="register"/>.</summary>
    void NotifyDevice(KernelPath path, ulong register, int queue = 0);

    /// <summary>Whether the driver reads and acknowledges a paravirtual device's interrupt status itself (natively), or the hypervisor does it as it delivers the event (Xen's event channels).</summary>
    bool DriverAcknowledgesDevice { get; }
}
