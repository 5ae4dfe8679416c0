using Sim.Models.Cpu;

namespace Sim.Models.Virtualization;

/// <summary>
/// A virtual machine monitor without VT-x: the guest kernel runs deprivileged (at CPL 3) on the
/// core, and the monitor is the machine's host (it owns the real IDT: every exception, system
/// call and interrupt comes to it first, and it reflects to the guest kernel what is the
/// guest's). It decides what becomes of each sensitive instruction the guest kernel executes:
/// under trap-and-emulate the privileged ones fault to it and the others execute as the
/// hardware does at CPL 3 (the virtualization holes); under binary translation every one is
/// translated into a call to it.
/// </summary>
public interface ISoftwareMonitor : ICoreHost
{
    /// <summary>What becomes of <paramref name="instruction"/> when the guest kernel executes it.</summary>
    Interception Intercepts(Instruction instruction);

    /// <summary>The guest kernel executed <paramref name="op"/>, intercepted: the monitor's handler and what follows it.</summary>
    MonitorResponse OnSensitive(Core core, in Op op);

    /// <summary>
    /// Control enters the guest kernel's line of code that <paramref name="fetch"/> fetches,
    /// reached as its <see cref="Op.Entry"/> says: where the code runs from (its translation, under
    /// binary translation), or the monitor's work to run first, after which the fetch is retried.
    /// </summary>
    GuestCode OnGuestKernelCode(Core core, in Op fetch);

    /// <summary>Whether the guest kernel's code runs translated (binary translation): only then is a routine's return (<see cref="OpKind.Return"/>) a step of its own.</summary>
    bool TranslatesKernelCode { get; }

    /// <summary>A guest kernel routine returns (<see cref="OpKind.Return"/>): the monitor's work for it (a translated return's lookup of its target), or null.</summary>
    IOpStream? OnGuestKernelReturn(Core core);

    /// <summary>
    /// The guest kernel stores at <paramref name="store"/>'s address from <see cref="Core.GuestKernelSite"/>:
    /// the monitor's handler that does the write instead (a translation adapted to call out for it),
    /// or null for the store to run as it is.
    /// </summary>
    IOpStream? OnGuestKernelWrite(Core core, in Op store);
}

/// <summary>
/// Where a line of guest kernel code runs from: <see cref="Address"/>, the guest's own, or in a
/// translation cache <see cref="Bytes"/> of translated code (fetched at CPL 0's rights: VMware's
/// translated kernel code runs at CPL 1, which reaches the monitor's supervisor pages), entered
/// after <see cref="ChainedJumps"/> jumps of its own; or, with <see cref="Before"/>, the monitor's
/// work to run first (a translation, a chaining, a lookup), after which the fetch is retried.
/// </summary>
public readonly record struct GuestCode(ulong Address, int Bytes = 0, int ChainedJumps = 0, IOpStream? Before = null)
{
    /// <summary>Whether the code runs from a translation cache.</summary>
    public bool Translated => Bytes > 0;
}

/// <summary>How a monitor gets control at a guest kernel's sensitive instruction.</summary>
public enum Interception
{
    /// <summary>It is not intercepted: it executes as the hardware does at CPL 3.</summary>
    None,

    /// <summary>It faults (#GP, or #PF on an unmapped device page) and the monitor's handler runs after the exception's delivery.</summary>
    Trap,

    /// <summary>The translated code calls the monitor: no exception delivery.</summary>
    Translated,

    /// <summary>The translated code emulates it in place, on the virtual CPU's state, without calling the monitor (VMware's in-TC emulation [AA06]).</summary>
    InCache,
}

/// <summary>
/// A monitor's handler for an intercepted instruction: its stream (run at CPL 0), whether the
/// instruction is retried afterwards (rather than skipped as emulated), whether the handler's
/// return also leaves the guest kernel's frame (an emulated SYSRET: back to guest user mode), and
/// the value an emulated read gives the guest, and for a hosted monitor the trip through the host
/// that comes before the handler.
/// </summary>
public readonly record struct MonitorResponse(IOpStream Handler, bool Retry = false, bool ReturnsToGuestUser = false, ulong? ReadValue = null,
    HostRoundTrip? ThroughHost = null);
