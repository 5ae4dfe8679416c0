using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// The address space and library behaviour of a small dynamically linked C program under glibc
/// on x86-64 Linux 2.6: its own text and data, the dynamic loader and the C library mapped from
/// page-cache files (their text shared and read-only, their data private), the static TLS block,
/// and the stack. The library calls the workloads make (fork, exit, waitpid) are written as the
/// code pages they enter and the data pages they write, so the kernel meets the faults a real
/// process gives it: after fork the child faults in the library text it runs (fork does not copy
/// read-only file mappings) and breaks copy-on-write on the pages it writes.
/// </summary>
/// <remarks>
/// Sizes and touch counts are assumptions of the order of glibc 2.3-2.5 on x86-64 (no measurement
/// in hand): ld.so text 28 pages and data 2; libc text 333 pages, relocated read-only data 4,
/// data 2, bss 5; a 132 KiB stack VMA. Startup touches all of ld.so's text and 48 pages of libc's.
/// Which library pages fork, exit and waitpid enter and write, and the instructions each step runs
/// (the ALU blocks, 30 to 200 instructions), are assumptions of the same order.
/// Libraries sit from TASK_UNMAPPED_BASE (TASK_SIZE / 3, 0x2aaaaaaab000), where 2.6 x86-64
/// kernels with the legacy mmap layout put them.
/// </remarks>
public sealed class GlibcProcess
{
    private const ulong Page = 4096;
    private const ulong LoaderBase = 0x0000_2AAA_AAAA_B000;
    private const ulong LoaderTextPages = 28;
    private const ulong LoaderDataPages = 2;
    private const ulong LibcTextPages = 333;
    private const ulong LibcRelroPages = 4;
    private const ulong LibcDataPages = 2;
    private const ulong LibcBssPages = 5;
    private const ulong TlsPages = 2;
    private const ulong StackPages = 33;
    private const ulong LibcTextTouchedAtStartup = 48;

    private readonly ulong _libcText;
    private readonly ulong _libcData;
    private readonly ulong _libcBss;
    private readonly ulong _tls;
    private readonly ulong _stackTop;

    private GlibcProcess(IReadOnlyList<MemoryRegion> regions, ulong libcText, ulong libcData, ulong libcBss, ulong tls, ulong stackTop)
    {
        Regions = regions;
        (_libcText, _libcData, _libcBss, _tls, _stackTop) = (libcText, libcData, libcBss, tls, stackTop);
    }

    /// <summary>The process's regions (VMAs), for the kernel to start it with.</summary>
    public IReadOnlyList<MemoryRegion> Regions { get; }

    /// <summary>Finds or creates the program's, the loader's and the library's image files in <paramref name="kernel"/>, warm in its page cache (one copy for every container of the image), and lays out the address space.</summary>
    public static GlibcProcess Load(LinuxKernel kernel, string program, ulong programTextPages = 1)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        int text = kernel.ImageFile(program, programTextPages * Page);
        int loader = kernel.ImageFile("ld-linux-x86-64.so.2", LoaderTextPages * Page);
        int libc = kernel.ImageFile("libc.so.6", LibcTextPages * Page);
        ulong loaderData = LoaderBase + (LoaderTextPages * Page);
        ulong libcText = loaderData + (LoaderDataPages * Page);
        ulong libcRelro = libcText + (LibcTextPages * Page);
        ulong libcData = libcRelro + (LibcRelroPages * Page);
        ulong libcBss = libcData + (LibcDataPages * Page);
        ulong tls = libcBss + (LibcBssPages * Page);
        ulong stack = ExecutableImage.StackBase + (256 * Page) - (StackPages * Page);
        MemoryRegion[] regions =
        [
            new("text", ExecutableImage.TextBase, programTextPages, Writable: false, Populated: false, FileId: text),
            new("data", ExecutableImage.DataBase, 1, Writable: true),
            new("ld.so text", LoaderBase, LoaderTextPages, Writable: false, Populated: false, FileId: loader),
            new("ld.so data", loaderData, LoaderDataPages, Writable: true),
            new("libc text", libcText, LibcTextPages, Writable: false, Populated: false, FileId: libc),
            new("libc relro", libcRelro, LibcRelroPages, Writable: false), // private pages written by relocation, then made read-only
            new("libc data", libcData, LibcDataPages, Writable: true),
            new("libc bss", libcBss, LibcBssPages, Writable: true, Populated: false),
            new("tls", tls, TlsPages, Writable: true),
            new("stack", stack, StackPages, Writable: true, Populated: false),
        ];
        return new GlibcProcess(regions, libcText, libcData, libcBss, tls, ExecutableImage.StackBase + (256 * Page) - 8);
    }

    /// <summary>
    /// The dynamic loader and the library's start-up: every loader text page and part of libc's
    /// run, part of libc's bss and the top of the stack are written. Afterwards the resident set
    /// is what a process has when main() starts.
    /// </summary>
    public IEnumerable<Op> Startup()
    {
        for (ulong page = 0; page < LoaderTextPages; page++)
        {
            yield return Op.Fetch(LoaderBase + (page * Page));
            yield return Op.Alu(200);
        }
        for (ulong page = 0; page < LibcTextTouchedAtStartup; page++)
        {
            yield return Op.Fetch(_libcText + (page * 7 % LibcTextPages * Page)); // spread over the library
            yield return Op.Alu(200);
        }
        yield return Op.Store(_libcBss);
        yield return Op.Store(_libcBss + Page);
        for (ulong page = 0; page < 3; page++)
        {
            yield return Op.Store(_stackTop - (page * Page));
        }
        yield return Op.Fetch(ExecutableImage.TextBase);
    }

    /// <summary>fork() up to the system call: the wrapper's page, the atfork handlers and the stdio list lock.</summary>
    public IEnumerable<Op> ForkCall()
    {
        yield return Op.Fetch(LibcTextAt(200));
        yield return Op.Alu(150);
        yield return Op.Store(_libcData); // _IO_list_lock
        yield return Op.Store(_stackTop);
        yield return Call(SyscallNumber.Fork);
    }

    /// <summary>fork() returning in the parent: the lock released, the caller's frame written.</summary>
    public IEnumerable<Op> ParentAfterFork()
    {
        yield return Op.Alu(60);
        yield return Op.Store(_libcData);
        yield return Op.Store(_stackTop);
    }

    /// <summary>fork() returning in the child: the TLS pid cache reset, the stdio locks reinitialised, the child atfork handlers run.</summary>
    public IEnumerable<Op> ChildAfterFork()
    {
        yield return Op.Fetch(LibcTextAt(200));
        yield return Op.Alu(120);
        yield return Op.Store(_tls);         // THREAD_SELF->pid and tid
        yield return Op.Store(_libcData);    // _IO_list_resetlock
        yield return Op.Store(_stackTop);
        yield return Op.Fetch(ExecutableImage.TextBase);
    }

    /// <summary>exit(): the exit handlers, stdio clean-up and _exit, each on its own library page.</summary>
    public IEnumerable<Op> Exit()
    {
        foreach (ulong page in new ulong[] { 40, 41, 150, 201 })
        {
            yield return Op.Fetch(LibcTextAt(page));
            yield return Op.Alu(100);
        }
        yield return Op.Store(_libcBss); // __exit_funcs
        yield return Call(SyscallNumber.Exit);
    }

    /// <summary>waitpid(): the wrapper's page and the system call.</summary>
    public IEnumerable<Op> WaitPid()
    {
        yield return Op.Fetch(LibcTextAt(202));
        yield return Op.Alu(30);
        yield return Call(SyscallNumber.Wait4);
    }

    private ulong LibcTextAt(ulong page) => _libcText + (page * Page);
}
