namespace Sim.Models.Kernel;

/// <summary>
/// The bookkeeping instructions of each kernel path, beside the memory traffic, locked operations
/// and privileged operations the paths make explicitly. No source in hand gives per-path
/// instruction counts for Linux 2.6 on x86-64, so these are assumed orders of magnitude, sized
/// from what each path does in that kernel (docs/machine.md lists the reasoning): copy_process
/// sets up credentials, files, fs, signal handlers, pid, scheduler and /proc state; do_exit tears
/// the same down and notifies the parent; wait4 reaps through release_task; the page-fault paths
/// find the VMA, take the page-table lock and update the LRU lists. They are not fitted to any
/// published figure.
/// </summary>
public sealed record LinuxKernelCosts(
    int SyscallEntry,
    int ForkBase,
    int ForkPerRegion,
    int PerPteCopy,
    int ExitBase,
    int ExitPerRegion,
    int PageAllocator,
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
        SyscallEntry: 30, ForkBase: 15_000, ForkPerRegion: 600, PerPteCopy: 40, ExitBase: 12_000, ExitPerRegion: 500, PageAllocator: 300, PerPteUnmap: 40, PerTableFree: 100,
        Wait: 5_000, ContextSwitch: 1_500, DemandZeroFault: 1_000, CopyOnWriteFault: 1_500, TimerTick: 500, Mmap: 1_500,
        BlockRequest: 1_000, BlockCompletion: 500, NetworkSend: 2_500, NetworkReceive: 2_000,
        Open: 1_500, FileRead: 400, FileWrite: 500, Close: 200, ExecBase: 15_000, FileFault: 1_200);
}
