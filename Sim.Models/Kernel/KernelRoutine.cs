namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's code paths, each with an instruction count (<see cref="LinuxKernelCosts"/>) and a
/// place in the kernel's text (<see cref="KernelText"/>). Per-item routines (the Per... and
/// page-allocator entries) are loop bodies or helpers run once per item.
/// </summary>
public enum KernelRoutine
{
    SyscallEntry,
    Fork,
    ForkPerRegion,
    PerPteCopy,
    Exit,
    ExitPerRegion,
    PageAllocator,
    PerPteUnmap,
    PerTableFree,
    Wait,
    ContextSwitch,
    DemandZeroFault,
    CopyOnWriteFault,
    FileFault,
    TimerTick,
    Mmap,
    BlockRequest,
    BlockCompletion,
    NetworkSend,
    NetworkReceive,
    Open,
    FileRead,
    FileWrite,
    Close,
    Exec,
    SignalAction,
    Kill,
    SignalDelivery,
    SignalReturn,
    PathComponent,
    Stat,

    /// <summary>Containers: one namespace step (a pid translated at one pid-namespace level, a mount or network namespace consulted).</summary>
    NamespaceLookup,

    /// <summary>Containers: one cgroup level's share of a page's memory charge or uncharge, or of a context switch's CPU accounting.</summary>
    CgroupAccounting,
}
