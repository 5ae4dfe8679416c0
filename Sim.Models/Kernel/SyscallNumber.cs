namespace Sim.Models.Kernel;

/// <summary>The system calls the kernel model implements, with their Linux x86-64 numbers (arch/x86/entry/syscalls/syscall_64.tbl).</summary>
public enum SyscallNumber
{
    Read = 0,
    Write = 1,
    Open = 2,
    Close = 3,
    Stat = 4,
    Mmap = 9,
    Mprotect = 10,
    RtSigaction = 13,
    RtSigreturn = 15,
    Pread64 = 17,
    Pwrite64 = 18,
    Munmap = 11,
    SchedYield = 24,
    Nanosleep = 35,
    Getpid = 39,
    Sendto = 44,
    Recvfrom = 45,
    Clone = 56,
    Fork = 57,
    Execve = 59,
    Exit = 60,
    Wait4 = 61,
    Kill = 62,
    Futex = 202,
    SchedSetaffinity = 203,
    SchedGetaffinity = 204,
    ClockGettime = 228,
}
