using Sim.Models.Cpu;
using Sim.Models.Virtualization;

namespace Sim.Models.Kernel;

/// <summary>
/// The privileged operations of a Xen paravirtual guest kernel (Barham et al., SOSP 2003, and
/// Linux's arch/x86/xen): hypercalls instead of privileged instructions. Page-table updates are
/// queued, as Linux's lazy MMU mode queues them, and validated by the hypervisor in batches of
/// up to <see cref="BatchSize"/> (one mmu_update hypercall), flushed before anything that needs
/// them in effect (a switch of address space, a TLB flush, the return from the kernel). Masking
/// events is a store to the shared-info page, not an instruction (the vCPU's
/// evtchn_upcall_mask); an event needs no EOI; the kernel returns to user mode through the
/// iret hypercall; the idle loop blocks with sched_op; a device is notified by an event on its
/// channel, and its interrupt comes as an event the driver need not acknowledge on the device.
/// </summary>
public sealed class ParavirtualPrivilegedOperations(ulong sharedInfo) : IPrivilegedOperations
{
    /// <summary>Page-table updates per mmu_update hypercall, at most (assumed: Linux's Xen multicall batches are of this order).</summary>
    public const int BatchSize = 32;

    /// <summary>The physical address of the shared-info page, where the event mask and pending bits live.</summary>
    public ulong SharedInfo { get; } = sharedInfo;

    public void SwitchAddressSpace(KernelPath path, ulong cr3)
    {
        Flush(path);
        Call(path, Hypercall.Encode(XenHypercall.MmuextOp, cr3, Hypercall.NewBasePointer));
    }

    public void UpdatePageTableEntry(KernelPath path, ulong ptePhysicalAddress)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (++path.PendingPageTableUpdates == BatchSize)
        {
            Flush(path);
        }
    }

    public void FlushTlbPage(KernelPath path, ulong linearAddress)
    {
        Flush(path);
        Call(path, Hypercall.Encode(XenHypercall.MmuextOp, linearAddress, Hypercall.InvlpgLocal));
    }

    public void FlushTlb(KernelPath path, ulong cr3)
    {
        Flush(path);
        Call(path, Hypercall.Encode(XenHypercall.MmuextOp, 0, Hypercall.TlbFlushLocal));
    }

    public void DisableInterrupts(KernelPath path) => path.Store(SharedInfo); // evtchn_upcall_mask = 1

    public void RestoreInterrupts(KernelPath path) => path.Store(SharedInfo).Load(SharedInfo); // the mask restored, then the pending bit checked

    /// <summary>A paravirtual guest has one virtual CPU in this model: an IPI has nowhere to go.</summary>
    public void SendInterprocessorInterrupt(KernelPath path, int cpu, int vector) =>
        throw new NotSupportedException("A paravirtual guest has one virtual CPU; IPIs by event channel (Xen's VIRQ/IPI ports) are not modelled.");

    public void EndOfInterrupt(KernelPath path) => path.Store(SharedInfo); // the event's pending bit cleared: no APIC to acknowledge

    public void ReturnFromSyscall(KernelPath path)
    {
        Flush(path);
        Call(path, Hypercall.Encode(XenHypercall.Iret));
    }

    public void ReturnFromInterrupt(KernelPath path) => ReturnFromSyscall(path);

    public IOpStream IdleLoop() => new GeneratedIdle();

    /// <summary>The kick is an event sent on the channel of the device whose registers are in the page of <paramref name="register"/> (event_channel_op send): the hypervisor notifies the backend, which looks at every queue of the device.</summary>
    public void NotifyDevice(KernelPath path, ulong register, int queue = 0) => Call(path, Hypercall.Encode(XenHypercall.EventChannelOp, register, Hypercall.Send));

    public bool DriverAcknowledgesDevice => false;

    private static void Call(KernelPath path, ulong hypercall) => path.Execute(Op.Execute(Instruction.Syscall, hypercall));

    /// <summary>The queued page-table updates go to the hypervisor in one validated batch.</summary>
    private static void Flush(KernelPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.PendingPageTableUpdates > 0)
        {
            Call(path, Hypercall.Encode(XenHypercall.MmuUpdate, Hypercall.Count(path.PendingPageTableUpdates)));
            path.PendingPageTableUpdates = 0;
        }
    }

    /// <summary>The paravirtual idle loop: block in the hypervisor until an event comes, forever.</summary>
    private sealed class GeneratedIdle : IOpStream
    {
        public bool TryNext(out Op op)
        {
            op = Op.Execute(Instruction.Syscall, Hypercall.Encode(XenHypercall.SchedOp, 0, Hypercall.Block));
            return true;
        }
    }
}
