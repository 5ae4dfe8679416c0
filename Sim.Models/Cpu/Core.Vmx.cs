using Sim.Engine.Statistics;
using Sim.Models.Virtualization;

namespace Sim.Models.Cpu;

/// <summary>
/// VMX operation (Intel SDM Vol. 3C, chapters 24 to 27): once a hypervisor has put a guest on the
/// core, the core runs the guest in non-root mode, sending its system calls, exceptions and
/// interrupts to the guest's kernel, except what the VM-execution controls make exit. A VM exit
/// charges the profile's exit latency, switches to root mode and runs the hypervisor's handler;
/// its VMRESUME charges the entry latency and returns to the guest, after the exiting instruction
/// or at it. VMREAD and VMWRITE in a handler cost the profile's VMCS access times.
/// </summary>
public sealed partial class Core
{
    private VmxMode _vmxMode;
    private IVmxMonitor? _monitor;
    private ICoreHost? _guest;
    private readonly VectorCounter<ExitReason>? _vmExits; // registered with the core's statistics when the CPU has VMX

    /// <summary>The core's VMX operation: off (native), root (in a hypervisor's exit handler) or non-root (running a guest).</summary>
    public VmxMode VmxMode => _vmxMode;

    /// <summary>Where the core's events go: the guest's kernel while a guest runs, otherwise the machine's host.</summary>
    private ICoreHost EventHost => _vmxMode == VmxMode.NonRoot ? _guest! : _host;

    /// <summary>
    /// Puts a guest on the core (what VMLAUNCH does after the hypervisor has filled the VMCS):
    /// from now on the core's thread is the guest's, its events go to <paramref name="guest"/>'s
    /// kernel, and <paramref name="monitor"/> handles its VM exits.
    /// </summary>
    public void EnterGuest(IVmxMonitor monitor, ICoreHost guest)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(guest);
        if (_vmx is null)
        {
            throw new InvalidOperationException($"Core {Path}: the profile's CPU has no VMX; it cannot run a guest in non-root mode.");
        }
        if (_vmxMode != VmxMode.Off)
        {
            throw new InvalidOperationException($"Core {Path} already runs a guest.");
        }
        (_monitor, _guest, _vmxMode) = (monitor, guest, VmxMode.NonRoot);
    }

    /// <summary>A pending interrupt at an operation boundary: a VM exit if the guest runs with external-interrupt exiting, else delivery if IF allows; false when it must wait.</summary>
    private bool InterruptArrives()
    {
        if (_vmxMode == VmxMode.NonRoot && _monitor!.Controls.ExternalInterruptExiting)
        {
            EnterRoot(new VmExit(ExitReason.ExternalInterrupt, Vector: _pendingInterrupts.Dequeue()), faulting: null);
            return true;
        }
        if (_vmxMode == VmxMode.Root || !InterruptsEnabled)
        {
            return false; // the handler runs with interrupts blocked; the guest's IF holds them otherwise
        }
        DeliverInterrupt(_pendingInterrupts.Dequeue());
        return true;
    }

    /// <summary>A VM exit: the exit latency, root mode, and the hypervisor's handler on top of the guest.</summary>
    private void EnterRoot(VmExit exit, Op? faulting)
    {
        DrainStores();
        _vmExits!.Increment(exit.Reason);
        Charge(CycleCategory.VmTransition, (ulong)_vmx!.VmExitCycles);
        _vmxMode = VmxMode.Root;
        VmExitResponse response = _monitor!.OnVmExit(this, exit);
        PushFrame(new Frame(response.Handler, 0, response.SkipInstruction ? null : faulting, VmHandler: true));
    }

    private static bool IsVmxInstruction(Instruction i) => i is Instruction.Vmresume or Instruction.Vmread or Instruction.Vmwrite or Instruction.Vmcall;

    /// <summary>The VMX instructions of a root-mode handler; false for any other instruction.</summary>
    private bool TryVmxInstruction(Instruction i)
    {
        switch (i)
        {
            case Instruction.Vmread:
                Charge(CycleCategory.Hypervisor, (ulong)_vmx!.VmcsReadCycles);
                break;
            case Instruction.Vmwrite:
                Charge(CycleCategory.Hypervisor, (ulong)_vmx!.VmcsWriteCycles);
                break;
            case Instruction.Vmresume:
                Resume();
                break;
            default:
                return false;
        }
        _instructions.Increment();
        return true;
    }

    /// <summary>VMRESUME: the entry latency, and back to the guest where the exit left it (or at the exiting instruction, to retry it).</summary>
    private void Resume()
    {
        if (_frames.Count < 2 || !_frames[^1].VmHandler)
        {
            throw new InvalidOperationException($"Core {Path}: VMRESUME outside a VM exit handler.");
        }
        Charge(CycleCategory.VmTransition, (ulong)_vmx!.VmEntryCycles);
        _vmxMode = VmxMode.NonRoot;
        PopFrame("VMRESUME");
    }
}
