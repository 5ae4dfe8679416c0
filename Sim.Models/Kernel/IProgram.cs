using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// A user program run by <see cref="LinuxKernel"/>: its operation stream, told the result of each
/// system call (it may decide its next operations by it), and able to produce the child's
/// program when it forks (in which fork returns 0).
/// </summary>
public interface IProgram : IOpStream
{
    /// <summary>The argument of the system call just issued (mmap's page count, munmap's address), as RDI would hold it.</summary>
    long PendingArgument => 0;

    /// <summary>The second argument of the system call just issued (futex's operation), as RSI would hold it.</summary>
    long PendingSecondArgument => 0;

    /// <summary>
    /// The third argument of the system call just issued, as RDX would hold it: the byte count of
    /// a read or write (a whole page unless the program says otherwise), futex's value, clone's
    /// thread-ID address.
    /// </summary>
    long PendingCount => 4096;

    void SyscallReturned(long result);

    /// <summary>
    /// The handler the program installed for <paramref name="signal"/> with rt_sigaction: the
    /// operations it runs, as a program of its own (the kernel returns to the interrupted program
    /// through rt_sigreturn after it). None by default.
    /// </summary>
    IProgram? SignalHandler(int signal) => null;

    IProgram ForkChild();
}
