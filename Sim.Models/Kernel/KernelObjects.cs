namespace Sim.Models.Kernel;

/// <summary>
/// Where the kernel's per-page and per-process objects live in simulated physical memory, so that
/// the paths that touch them meet the caches as Linux's do: the page descriptor array (mem_map,
/// one <c>struct page</c> per frame) and each process's kernel stack and task structure.
/// </summary>
/// <remarks>
/// Sizes, for Linux 2.6 on x86-64: a struct page is taken as one 64-byte cache line (56 or 64
/// bytes by configuration: include/linux/mm_types.h); the kernel stack with thread_info at its
/// base is 8 KiB (THREAD_SIZE, two pages, in 2.6 x86-64's include/asm-x86_64/page.h); the signal
/// handler table is 64 entries of a 32-byte k_sigaction (handler, flags, restorer, mask: 4 x 8
/// bytes), 2 KiB; the task_struct is taken as 1.75 KiB (assumed: it varies with configuration,
/// between about 1.5 and 2 KiB in 2.6 kernels).
/// </remarks>
public static class KernelObjects
{
    public const int LineBytes = 64;

    /// <summary>Bytes of one page descriptor (struct page).</summary>
    public const int PageDescriptorBytes = 64;

    /// <summary>Cache lines of a task_struct (1.75 KiB, assumed).</summary>
    public const int TaskStructLines = 28;

    /// <summary>Cache lines of a signal handler table (64 x 32 bytes).</summary>
    public const int SignalHandlerLines = 32;

    /// <summary>
    /// Cache lines of the signal frame written to the user stack on delivery and read back by
    /// rt_sigreturn: x86-64's rt_sigframe (return address, ucontext with its sigcontext, siginfo,
    /// about 440 bytes) and the 512-byte FXSAVE area, about 960 bytes.
    /// </summary>
    public const int SignalFrameLines = 15;

    /// <summary>Cache lines of the user registers saved at the top of a kernel stack (struct pt_regs, 21 x 8 bytes).</summary>
    public const int SavedRegisterLines = 3;
}

/// <summary>
/// A process's kernel objects in physical memory: the two frames of its 8 KiB kernel stack
/// (thread_info at the bottom of the lower one, the saved user registers at the top of the upper
/// one) and a frame holding its task_struct (lower half) and signal handler table (upper half).
/// </summary>
public readonly record struct ProcessKernelMemory(ulong StackBottom, ulong StackTop, ulong Task)
{
    public ulong SavedRegisters => StackTop + 4096 - (KernelObjects.SavedRegisterLines * KernelObjects.LineBytes);

    public ulong SignalHandlers => Task + 2048;
}
