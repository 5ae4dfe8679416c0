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
}

/// <summary>What a VM exit handler does: its stream in root mode, and whether the guest skips the exiting instruction on resumption.</summary>
public readonly record struct VmExitResponse(IOpStream Handler, bool SkipInstruction = true);
