using Sim.Models.Cpu;

namespace Sim.Models.Virtualization;

/// <summary>
/// A monitor hosted by an operating system (type 2): besides its own world it has a process on
/// the host, whose system calls (the real I/O a device model needs) reach the host kernel, which
/// the monitor stands for here.
/// </summary>
public interface IHostedMonitor
{
    /// <summary>The monitor process's system call <paramref name="number"/>: the host kernel's path, ending with SYSRET.</summary>
    IOpStream OnHostSyscall(Core core, ulong number);
}
