namespace Sim.Models.Kernel;

/// <summary>
/// The bookkeeping instructions of each kernel path, beside the memory traffic and privileged
/// operations the paths make explicitly. Assumed orders of magnitude for Linux 2.6 on x86-64 (no
/// source in hand gives per-path instruction counts); parameters to calibrate against forkwait
/// and lmbench-style measurements.
/// </summary>
public sealed record LinuxKernelCosts(
    int SyscallEntry,
    int ForkBase,
    int PerPteCopy,
    int ExitBase,
    int PerPteUnmap,
    int PerTableFree,
    int Wait,
    int ContextSwitch,
    int DemandZeroFault,
    int CopyOnWriteFault,
    int TimerTick,
    int Mmap,
    int BlockRequest,
    int BlockCompletion,
    int NetworkSend,
    int NetworkReceive,
    int Open,
    int FileRead,
    int FileWrite,
    int Close,
    int ExecBase,
    int FileFault)
{
    public static readonly LinuxKernelCosts Default = new(
        SyscallEntry: 30, ForkBase: 3_000, PerPteCopy: 10, ExitBase: 2_000, PerPteUnmap: 10, PerTableFree: 50,
        Wait: 400, ContextSwitch: 200, DemandZeroFault: 300, CopyOnWriteFault: 400, TimerTick: 200, Mmap: 500,
        BlockRequest: 1_000, BlockCompletion: 500, NetworkSend: 2_500, NetworkReceive: 2_000,
        Open: 1_500, FileRead: 400, FileWrite: 500, Close: 200, ExecBase: 8_000, FileFault: 250);
}
