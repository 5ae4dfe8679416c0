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
/// On VM entry the monitor's pending virtual interrupt is injected (SDM 26.6) if the guest's IF
/// allows; otherwise interrupt-window exiting is armed and the guest exits as soon as it sets IF.
/// In root mode the host's interrupts are blocked, except while the hypervisor halts the core
/// (a blocked virtual CPU): then one is delivered to the hypervisor's own handler.
/// </summary>
public sealed partial class Core
{
    private VmxMode _vmxMode;
    private IVmxMonitor? _monitor;
    private ICoreHost? _guest;
    private readonly VectorCounter<ExitReason>? _vmExits; // registered with the core's statistics when the CPU has VMX
    private readonly VectorCounter<ExitReason>? _vmExitCycles;
    private ExitReason _exitReason;
    private long _exitStartBusy; // busy (non-idle) cycles when the current exit began
    private CycleCategory _rootCategory = CycleCategory.Hypervisor; // where a handler's cycles go (OpKind.Account moves it)
    private bool _interruptWindowExiting;
    private bool _idleInRoot; // the hypervisor halted the core with host interrupts open
    private GuestException? _injectException; // what the current exit's handler injects on VMRESUME
    private readonly Queue<int> _postedInterrupts = new();
    private ulong _pauseEnded;            // when the core's last PAUSE at CPL 0 completed
    private ulong _pauseLoopStart;        // when the PAUSE loop the guest is in began
    private bool _pauseLoopFresh = true;  // the guest's next PAUSE at CPL 0 begins a loop (the first after a VM entry)
    private ulong _tprThreshold;          // the TPR threshold the hypervisor set at the last VM entry

    /// <summary>The core's VMX operation: off (native), root (in a hypervisor's exit handler) or non-root (running a guest).</summary>
    public VmxMode VmxMode => _vmxMode;

    /// <summary>Where the core's events go: the guest's kernel while a guest runs, otherwise the machine's host.</summary>
    private ICoreHost EventHost => _vmxMode == VmxMode.NonRoot ? _guest! : _host;

    /// <summary>
    /// Puts a guest on the core (what VMLAUNCH does after the hypervisor has filled the VMCS):
    /// from now on the core's thread is the guest's, its events go to <paramref name="guest"/>'s
    /// kernel, and <paramref name="monitor"/> handles its VM exits.
    /// </summary>
    public void EnterGuest(IVmxMonitor monitor, ICoreHost guest, Paging.Mmu.GuestTranslation? translation = null)
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
        (_monitor, _guest, _vmxMode, _translation) = (monitor, guest, VmxMode.NonRoot, translation);
        if (!_descheduled)
        {
            Mmu.EnterGuest(); // a context waiting for its core enters when it is handed the core (Reschedule)
        }
    }

    /// <summary>
    /// A pending interrupt at an operation boundary: a VM exit if the guest runs with
    /// external-interrupt exiting; in root mode, delivery to the hypervisor only while it idles;
    /// otherwise delivery if IF allows. False when it must wait.
    /// </summary>
    private bool InterruptArrives()
    {
        if (_vmxMode == VmxMode.NonRoot && _monitor!.Controls.ExternalInterruptExiting)
        {
            Op? spin = _pending; // a guest spinning or waiting for a word exits between two rounds, and goes on after the handler
            (_pending, _waitingInterruptibly) = (null, false);
            EnterRoot(new VmExit(ExitReason.ExternalInterrupt, Vector: _pendingInterrupts.Dequeue()), faulting: spin);
            return true;
        }
        if (_vmxMode == VmxMode.Root)
        {
            if (!_idleInRoot)
            {
                return false; // the handler runs with the host's interrupts blocked
            }
            _idleInRoot = false;
        }
        else if (!InterruptsEnabled)
        {
            return false; // the guest's (or the native kernel's) IF holds it
        }
        DeliverInterrupt(_pendingInterrupts.Dequeue());
        return true;
    }

    /// <summary>
    /// Whether a pending physical interrupt may end the spin the core is in: a guest's, when
    /// external interrupts exit. The processor takes the exit between two instructions of the
    /// spin loop whatever the guest's IF (SDM 3C 25.2), so the host's tick can preempt a virtual
    /// CPU that spins for a lock (natively the spin holds interrupts off until it has the lock).
    /// </summary>
    private bool SpinExitsOnInterrupt => _ticket is not null && _pending is { Kind: OpKind.SpinLock } && _vmxMode == VmxMode.NonRoot && _monitor!.Controls.ExternalInterruptExiting;

    /// <summary>
    /// PAUSE-loop exiting (SDM 3C 25.1.3), checked before a PAUSE of the guest at CPL 0: a PAUSE
    /// more than the PLE gap after the previous one, or the first after a VM entry, begins a loop;
    /// one that comes more than the PLE window after its loop began exits (basic reason 40), and
    /// <paramref name="retry"/> goes on after the handler. True when it exited.
    /// </summary>
    /// <remarks>
    /// The gap is measured from the previous PAUSE's completion to this one's start (assumed: the
    /// SDM does not say which edges; from start to start, Skylake's PAUSE of 140 cycles alone
    /// would exceed KVM's and Xen's default gap of 128 and no loop would ever be seen). Times are
    /// in core cycles, which the TSC counts on these profiles (the fields are in TSC units).
    /// </remarks>
    private bool PauseLoopExits(in Op retry)
    {
        if (_vmxMode != VmxMode.NonRoot || _cpl != 0 || _monitor!.Controls is not { PauseLoopExiting: true } controls)
        {
            return false;
        }
        if (_pauseLoopFresh || _localCycle - _pauseEnded > controls.PleGap)
        {
            (_pauseLoopStart, _pauseLoopFresh) = (_localCycle, false);
            return false;
        }
        if (_localCycle - _pauseLoopStart <= controls.PleWindow)
        {
            return false;
        }
        _pending = null;
        EnterRoot(new VmExit(ExitReason.Pause, Instruction.Pause), retry);
        return true;
    }

    /// <summary>
    /// TPR virtualization (SDM 3C 29.1.2), after a guest's MOV to CR8 that did not exit: under the
    /// TPR shadow without virtual-interrupt delivery, a VM exit if the new priority class is below
    /// the TPR threshold. The model keeps the virtual TPR in the core's task priority; the write of
    /// the virtual-APIC page's line is taken to cost what the native MOV CR8 costs.
    /// </summary>
    private bool TprDropsBelowThreshold() =>
        _vmxMode == VmxMode.NonRoot && _monitor!.Controls is { UseTprShadow: true, VirtualInterruptDelivery: false } && TaskPriority < _tprThreshold;

    /// <summary>
    /// Posts <paramref name="vector"/> to the guest running on the core (posted-interrupt
    /// processing, SDM 29.6): delivered through the guest's IDT at the next boundary where its IF
    /// is set, with no VM exit. The hypervisor posts only to a core that runs the guest.
    /// </summary>
    public void PostInterrupt(int vector)
    {
        if (_vmxMode != VmxMode.NonRoot || !_monitor!.Controls.ProcessPostedInterrupts)
        {
            throw new InvalidOperationException($"Core {Path}: an interrupt can be posted only to a running guest whose controls process posted interrupts.");
        }
        _postedInterrupts.Enqueue(vector);
        if (_halted && _frames.Count > 0)
        {
            Wake();
        }
    }

    /// <summary>A posted interrupt is delivered to the guest once it is running with IF set.</summary>
    private bool PostedInterruptArrives()
    {
        if (_vmxMode != VmxMode.NonRoot || !InterruptsEnabled)
        {
            return false;
        }
        DeliverInterrupt(_postedInterrupts.Dequeue());
        return true;
    }

    /// <summary>Interrupt-window exiting: the guest has just set IF with a virtual interrupt waiting (SDM 25.2).</summary>
    private bool InterruptWindowOpens()
    {
        if (_vmxMode != VmxMode.NonRoot || !InterruptsEnabled)
        {
            return false;
        }
        _interruptWindowExiting = false;
        EnterRoot(new VmExit(ExitReason.InterruptWindow), faulting: null);
        return true;
    }

    /// <summary>
    /// HLT: halts unless an interrupt is already pending. In root mode it is the hypervisor blocking
    /// a virtual CPU: it does not halt when the monitor already has a virtual interrupt for the
    /// guest or a kick that unhalts it (one may come while the handler runs), and it opens the host's interrupts, so the one that wakes it reaches the hypervisor.
    /// </summary>
    private void HaltUnlessInterruptPending()
    {
        if (_vmxMode == VmxMode.Root)
        {
            if (_monitor!.HasWakeEvent(this))
            {
                return;
            }
            _idleInRoot = true;
        }
        if (_pendingInterrupts.Count == 0)
        {
            Halt();
        }
    }

    /// <summary>A VM exit: the exit latency, root mode, and the hypervisor's handler on top of the guest.</summary>
    /// <param name="exit">The exit as the VMCS reports it.</param>
    /// <param name="faulting">The operation to run again after the handler when it does not skip the exiting instruction.</param>
    /// <param name="after">The operation to go on with after the handler when it skips the instruction: the spin an instruction of the guest's spin loop (its PV halt) left.</param>
    private void EnterRoot(VmExit exit, Op? faulting, Op? after = null)
    {
        DrainStores();
        _vmExits!.Increment(exit.Reason);
        (_exitReason, _exitStartBusy) = (exit.Reason, BusyCycles);
        ulong start = _localCycle;
        Charge(CycleCategory.VmTransition, (ulong)_vmx!.VmExitCycles);
        Tracer?.Event(this, $"VM exit: {exit.Reason} (basic reason {(int)exit.Reason})", CycleCategory.VmTransition, start, _localCycle);
        _vmxMode = VmxMode.Root;
        _rootCategory = CycleCategory.Hypervisor;
        Mmu.ExitGuest();
        VmExitResponse response = _monitor!.OnVmExit(this, exit);
        _injectException = response.InjectException;
        if (response.ReadValue is { } value)
        {
            LastReadValue = value; // the emulated IN or MMIO read's result, written to the guest's register
        }
        PushFrame(new Frame(response.Handler, 0, response.SkipInstruction ? after : faulting, VmHandler: true));
        if (response.ThroughHost is { } trip)
        {
            PushHostRoundTrip(trip);
        }
    }

    /// <summary>Cycles charged to anything but idle or waiting for the core: an exit's cost excludes the time a blocked virtual CPU's core sleeps, and the time its virtual CPU is descheduled.</summary>
    private long BusyCycles => _cycles.Total - _cycles[CycleCategory.Idle] - _cycles[CycleCategory.Descheduled];

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

    /// <summary>
    /// VMRESUME: the entry latency, and back to the guest where the exit left it (or at the exiting
    /// instruction, to retry it), with the monitor's pending virtual interrupt injected if the
    /// guest's IF is set, or interrupt-window exiting armed if not.
    /// </summary>
    private void Resume()
    {
        if (_frames.Count < 2 || !_frames[^1].VmHandler)
        {
            throw new InvalidOperationException($"Core {Path}: VMRESUME outside a VM exit handler.");
        }
        ulong start = _localCycle;
        Charge(CycleCategory.VmTransition, (ulong)_vmx!.VmEntryCycles);
        Tracer?.Event(this, "VM entry (VMRESUME)", CycleCategory.VmTransition, start, _localCycle);
        _vmExitCycles!.Add(_exitReason, BusyCycles - _exitStartBusy);
        _vmxMode = VmxMode.NonRoot;
        _pauseLoopFresh = true;
        _tprThreshold = _monitor!.TprThreshold(this);
        Mmu.EnterGuest();
        PopFrame("VMRESUME");
        if (_injectException is { } e)
        {
            // Event injection of an exception (SDM 26.6.1): the guest's handler runs first, and
            // decides whether the instruction that faulted is retried after it.
            _injectException = null;
            Op? faulting = _pending;
            _pending = null;
            DeliverException(e.Vector, e.ErrorCode, e.FaultAddress, faulting);
            _interruptWindowExiting |= _monitor!.HasPendingInterrupt(this);
            return;
        }
        if (!_monitor!.HasPendingInterrupt(this))
        {
            return;
        }
        if (!InterruptsEnabled || _ticket is not null)
        {
            _interruptWindowExiting = true; // a guest spinning for a lock takes no interrupt until it has it (see SpinLock)
            return;
        }
        // The injected event is delivered before the guest executes anything, including an
        // instruction it is to retry: that one runs after the guest's handler returns.
        Op? retry = _pending;
        _pending = null;
        DeliverInterrupt(_monitor.AcknowledgeInterrupt(this), retry);
    }
}
