using Sim.Models.Cpu;

namespace Sim.Models.Virtualization;

/// <summary>
/// The VMX-root side of a core running a guest: the hypervisor. It owns the VM-execution controls
/// and handles every VM exit with an operation stream that runs in root mode and ends with
/// VMRESUME.
/// </summary>
public interface IVmxMonitor
{
    VmExecutionControls Controls { get; }

    /// <summary>
    /// The handler of <paramref name="exit"/>: its operations (VMREADs, emulation, device models)
    /// and a final VMRESUME. <see cref="VmExitResponse.SkipInstruction"/> says whether the guest
    /// resumes after the exiting instruction (emulated) or at it (to retry, as after an EPT fix).
    /// </summary>
    VmExitResponse OnVmExit(Core core, VmExit exit);

    /// <summary>Whether a virtual interrupt waits to be injected into the guest running on <paramref name="core"/>.</summary>
    bool HasPendingInterrupt(Core core);

    /// <summary>Whether the virtual CPU of <paramref name="core"/>, blocked, has something to wake it: a virtual interrupt, or a kick that unhalts it (KVM's kvm_vcpu_has_events and pv_unhalted).</summary>
    bool HasWakeEvent(Core core);

    /// <summary>The TPR threshold for the guest on <paramref name="core"/> at its VM entry: the priority class of the highest pending virtual interrupt if the guest's task priority masks it, otherwise 0 (KVM's update_cr8_intercept).</summary>
    ulong TprThreshold(Core core);

    /// <summary>Takes the highest-priority pending virtual interrupt for injection on VM entry; its vector.</summary>
    int AcknowledgeInterrupt(Core core);

    /// <summary>
    /// The guest on <paramref name="core"/> has nothing left to run (its last thread ended): the
    /// path the core runs in root mode (a switch to another virtual CPU, ending in a power-off
    /// <see cref="OpKind.Park"/>), or null to let the core halt.
    /// </summary>
    IOpStream? OnGuestStopped(Core core);
}

/// <summary>
/// What a VM exit handler does: its stream in root mode, whether the guest skips the exiting
/// instruction on resumption, for an emulated read (IN, an MMIO load) the value the guest reads,
/// an exception to inject into the guest on VM entry (a page fault the guest must see), and for
/// a hosted monitor the trip through the host that comes first (<see cref="HostRoundTrip"/>).
/// </summary>
public readonly record struct VmExitResponse(IOpStream Handler, bool SkipInstruction = true, ulong? ReadValue = null, GuestException? InjectException = null,
    HostRoundTrip? ThroughHost = null);

/// <summary>
/// A hosted monitor's trip through the host operating system before it resumes the guest: the
/// host kernel's side (the world switch out and the return from the monitor's ioctl, ending with
/// SYSRET into the monitor process) and then the monitor process's user-mode code (the device
/// model, the host system calls that do the real I/O, and the ioctl that goes back to the guest),
/// after which the exit handler's own stream (the world switch back, VMRESUME) runs.
/// </summary>
public sealed record HostRoundTrip(IOpStream KernelExit, IOpStream UserProcess);

/// <summary>An exception injected into a guest on VM entry: vector, error code and, for a page fault, CR2.</summary>
public readonly record struct GuestException(ExceptionVector Vector, Paging.PageFaultErrorCode ErrorCode, ulong FaultAddress);
