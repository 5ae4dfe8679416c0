using Sim.Engine.Statistics;
using Sim.Models.Virtualization;

namespace Sim.Models.Cpu;

/// <summary>
/// Deprivileged guest execution, the way monitors ran guests before VT-x (trap-and-emulate,
/// binary translation, paravirtualization): the guest kernel's code runs at CPL 3 in frames
/// marked as the guest kernel's (its cycles are still the guest kernel's); the monitor is the
/// machine's host, so exceptions, system calls and interrupts reach it first, and it reflects
/// to the guest kernel (<see cref="ReflectToGuestKernel"/>) what the guest must handle. A
/// sensitive instruction of the guest kernel is intercepted as the monitor says (a trap costs
/// an exception delivery; a translated call does not) or executes as x86 does at CPL 3, where
/// the sensitive-but-unprivileged ones silently misbehave and are counted by instruction.
/// </summary>
public sealed partial class Core
{
    private ISoftwareMonitor? _softwareMonitor;
    private Op? _deliveringFaulting; // the faulting operation while an exception is being handed to the monitor

    /// <summary>
    /// The operation that faulted, while its exception is being handed to a kernel or monitor (null
    /// otherwise): what a kernel that puts the faulting thread to sleep keeps, to run it again when
    /// the thread next runs, as a CPU re-executes the faulting instruction.
    /// </summary>
    public Op? FaultingOp => _deliveringFaulting;
    private readonly VectorCounter<Instruction> _monitorCalls;
    private readonly VectorCounter<Instruction> _holes;

    /// <summary>Whether the operation being executed (or the exception or interrupt being delivered) belongs to the guest kernel running deprivileged.</summary>
    public bool InGuestKernel => _topGuestKernel;

    /// <summary>Whether the guest kernel's code on top was entered from guest user mode (its return goes back to user mode).</summary>
    public bool GuestKernelEnteredFromUser => _frames.Count >= 2 && _frames[^1].GuestKernel && !_frames[^2].GuestKernel && !_frames[^2].Monitor;

    /// <summary>Puts a deprivileged guest on the core, <paramref name="monitor"/> (the machine's host) watching it; the guest's first thread is started with <see cref="Start"/> as usual.</summary>
    public void EnterDeprivilegedGuest(ISoftwareMonitor monitor)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        if (_softwareMonitor is not null || _vmxMode != VmxMode.Off)
        {
            throw new InvalidOperationException($"Core {Path} already runs a guest.");
        }
        if (!ReferenceEquals(monitor, _host))
        {
            throw new InvalidOperationException("A software monitor must be the machine's host: it owns the real IDT.");
        }
        _softwareMonitor = monitor;
        Mmu.EnterGuest();
    }

    /// <summary>
    /// Pushes <paramref name="stream"/>, the guest kernel's handler for what the monitor is
    /// handling (a system call, a page fault, an interrupt), to run deprivileged after the
    /// monitor's own handler returns; with <paramref name="retryFaultingOp"/> the operation that
    /// faulted is retried when the guest's handler returns.
    /// </summary>
    public void ReflectToGuestKernel(IOpStream stream, bool retryFaultingOp = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (_softwareMonitor is null)
        {
            throw new InvalidOperationException($"Core {Path} runs no deprivileged guest.");
        }
        PushFrame(new Frame(stream, 3, retryFaultingOp ? _deliveringFaulting : null, GuestKernel: true));
    }

    /// <summary>A frame for <paramref name="stream"/> at <paramref name="cpl"/>: under a software monitor, ring-0 guest code runs at CPL 3 as the guest kernel's.</summary>
    private Frame ThreadFrame(IOpStream stream, int cpl) =>
        _softwareMonitor is not null && cpl == 0 ? new Frame(stream, 3, GuestKernel: true) : new Frame(stream, cpl);

    /// <summary>How a trace names an instruction the binary translator emulates in place: no entry into the monitor.</summary>
    public const string EmulatedInTranslationCache = "emulated inside the translation cache (no call out)";

    /// <summary>How a trace names a guest kernel's store that an adapted translation hands to the monitor.</summary>
    public const string AdaptedWrite = "store handed to the monitor by its adapted translation (a callout, no fault)";

    /// <summary>Whether the guest kernel's instruction in <paramref name="op"/> goes to the monitor; if so, it has been handed over.</summary>
    private bool Intercepted(in Op op)
    {
        if (_softwareMonitor is null || !_topGuestKernel)
        {
            return false;
        }
        Interception how = _softwareMonitor.Intercepts(op.Instruction);
        if (how == Interception.None)
        {
            return false;
        }
        DrainStores();
        _monitorCalls.Increment(op.Instruction);
        ulong start = _localCycle;
        if (how == Interception.Trap)
        {
            Charge(CycleCategory.Hypervisor, (ulong)_timing.ExceptionDeliveryCycles); // the #GP (or #PF) that hands it to the monitor
        }
        Tracer?.Event(this, how switch
        {
            Interception.Trap => $"{InstructionTable.Of(op.Instruction).Mnemonic} traps to the monitor (#GP delivered)",
            Interception.InCache => $"{InstructionTable.Of(op.Instruction).Mnemonic} {EmulatedInTranslationCache}",
            _ => $"{InstructionTable.Of(op.Instruction).Mnemonic} handed to the monitor without a fault (a callout from translated code, or a hypercall)",
        }, CycleCategory.Hypervisor, start, _localCycle);
        _rootCategory = CycleCategory.Hypervisor;
        MonitorResponse response = _softwareMonitor.OnSensitive(this, op);
        if (response.ReadValue is { } value)
        {
            LastReadValue = value;
        }
        PushMonitorFrame(response.Handler, response.Retry ? op : null, response.ReturnsToGuestUser);
        if (response.ThroughHost is { } trip)
        {
            PushHostRoundTrip(trip);
        }
        return true;
    }

    /// <summary>
    /// Runs <paramref name="handler"/>, the monitor's code called from the guest kernel's
    /// (translated code's callouts, the translator, its lookups), with interrupts off as a trap
    /// gate's handler runs; <paramref name="retry"/> runs again after it.
    /// </summary>
    private void PushMonitorFrame(IOpStream handler, Op? retry, bool returnsToGuestUser = false)
    {
        bool wasEnabled = InterruptsEnabled;
        InterruptsEnabled = false;
        PushFrame(new Frame(handler, 0, retry, RestoresInterruptFlag: wasEnabled, Monitor: true, PopsGuestKernel: returnsToGuestUser));
    }
}
