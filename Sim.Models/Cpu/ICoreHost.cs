namespace Sim.Models.Cpu;

/// <summary>
/// What a <see cref="Core"/> runs under: the kernel that handles its exceptions, system calls and
/// interrupts, and the platform that answers its port and MMIO accesses. The core never asks
/// which architecture runs; later issues put a hypervisor behind this interface.
/// </summary>
public interface ICoreHost
{
    /// <summary>An exception was raised; <paramref name="faultAddress"/> is the linear address of a #PF (CR2).</summary>
    ExceptionResponse OnException(Core core, ExceptionVector vector, Paging.PageFaultErrorCode errorCode, ulong faultAddress);

    /// <summary>SYSCALL from user mode with system call <paramref name="number"/> (RAX): the kernel's path, run at CPL 0, ending with SYSRET.</summary>
    IOpStream OnSyscall(Core core, ulong number);

    /// <summary>An interrupt is delivered: the handler path, run at CPL 0, ending with IRET.</summary>
    IOpStream OnInterrupt(Core core, int vector);

    /// <summary>
    /// IN, OUT or an MMIO access to <paramref name="address"/> (a port or a physical address),
    /// performed at the simulated time the core has reached (the core synchronizes with the event
    /// queue first). <paramref name="value"/> is the value written; <paramref name="readValue"/>
    /// the value read. Returns the cycles the access takes on the bus and in the device.
    /// </summary>
    int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue);

    /// <summary>
    /// A device access of this host's code runs: returns the value a write carries at that
    /// moment, for a write whose value the code fixes only then (an SMP kernel's transmit tail),
    /// and lets the code learn that the write has run (an SMP kernel's AHCI driver marks its tags
    /// issued). The core calls it on a guest's kernel when the access exits, once, so the
    /// hypervisor's device model gets the same value a native device would. By default the value
    /// the operation was built with.
    /// </summary>
    ulong DeviceWriteRuns(Instruction instruction, ulong address, ulong value) => value;

    /// <summary>The stream at the bottom of the core ended (the thread finished): the next one to run at CPL 3, or null to idle.</summary>
    IOpStream? OnStreamEnd(Core core);
}
