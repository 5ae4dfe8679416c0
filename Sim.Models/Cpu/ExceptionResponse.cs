namespace Sim.Models.Cpu;

/// <summary>
/// What the kernel does about an exception: the handler path to run at CPL 0 (it must end with
/// IRET), and whether the faulting operation runs again afterwards (a page fault that mapped the
/// page) or is skipped (an instruction emulated by the handler, or a signal that skips it).
/// </summary>
public readonly record struct ExceptionResponse(IOpStream Handler, bool RetryFaultingOp);
