using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// A minimal test kernel in the manner of VMware's FrobOS, the test-only OS on which Adams and
/// Agesen (ASPLOS 2006) ran their nanobenchmarks: just enough kernel for one operation at a time
/// to be measured. It maps all physical memory at <see cref="DirectMapBase"/> with global 2 MiB
/// supervisor pages (shared by every address space, as Linux's direct map is), enters a short
/// system-call path, fixes up not-present pages on a page fault by walking the tables in
/// software and setting the present bit, skips the instruction after a divide error or #GP, and
/// acknowledges interrupts with an EOI to its local APIC. Every path is an operation stream, so
/// its cost comes from the machine.
/// </summary>
/// <remarks>
/// Model: each path's instruction counts are small fixed blocks (10 instructions of bookkeeping
/// around the essential work), an assumption standing for FrobOS's minimal handlers. The
/// Linux-like kernel of the machine issue (processes, fork, exec, scheduling) is a separate,
/// later model.
/// </remarks>
public sealed class MinimalKernel : ICoreHost
{
    /// <summary>Where physical memory appears in every address space (see <see cref="DirectMap"/>).</summary>
    public const ulong DirectMapBase = DirectMap.Base;

    private const int BookkeepingInstructions = 10;

    private readonly IPlatform _platform;
    private readonly AddressSpaceBuilder _kernelSpace;
    private readonly ulong _code; // the kernel's text: one line a path, through the direct map
    private readonly OpSequence _syscallPath;
    private readonly OpSequence _skipPath;
    private readonly OpSequence _interruptPath;

    /// <summary>The kernel's paths, a line of its text each: the system call's, the skip after a fault, the interrupt's, the page fix-up's.</summary>
    private enum PathLine
    {
        Syscall,
        Skip,
        Interrupt,
        FixUp,
    }

    public MinimalKernel(IPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        _platform = platform;
        _kernelSpace = DirectMap.Build(platform);
        _code = DirectMapBase + platform.Memory.AllocateFrame();
        _syscallPath = new(Enter(PathLine.Syscall), Op.Alu(BookkeepingInstructions), Op.Execute(Instruction.Sysret));
        _skipPath = new(Enter(PathLine.Skip), Op.Alu(BookkeepingInstructions), Op.Execute(Instruction.Iret));
        _interruptPath = new(
            Enter(PathLine.Interrupt), Op.Alu(BookkeepingInstructions), Op.MmioWrite(Devices.LocalApic.DefaultBase + 0xB0, 0), Op.Execute(Instruction.Iret));
    }

    /// <summary>Control enters a path's line of the kernel's text (from its entry point: fetched as any code is, translated under a binary translator).</summary>
    private Op Enter(PathLine line) => Op.Fetch(_code + ((ulong)line * 64), ControlTransfer.DirectCall);

    /// <summary>A new user address space that shares the kernel half; what CR3 is loaded with to run in it.</summary>
    public AddressSpaceBuilder NewProcessSpace()
    {
        AddressSpaceBuilder space = _platform.NewAddressSpace();
        space.ShareKernelHalf(_kernelSpace);
        return space;
    }

    public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress)
    {
        ArgumentNullException.ThrowIfNull(core);
        if (vector == ExceptionVector.PageFault && (errorCode & PageFaultErrorCode.Protection) == 0 && FixUp(core, faultAddress) is { } fix)
        {
            return new ExceptionResponse(fix, RetryFaultingOp: true);
        }
        return new ExceptionResponse(_skipPath.Rewind(), RetryFaultingOp: false);
    }

    public IOpStream OnSyscall(Core core, ulong number) => _syscallPath.Rewind();

    public IOpStream OnInterrupt(Core core, int vector) => _interruptPath.Rewind();

    public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
        _platform.DeviceAccess(core, instruction, address, value, out readValue);

    public IOpStream? OnStreamEnd(Core core) => null;

    /// <summary>
    /// The fix-up of a not-present page that has a prepared entry: read the four entries through
    /// the direct map (the software walk), then set the present bit with a store. Null when the
    /// address has no entry (a true fault, which this kernel skips).
    /// </summary>
    private OpSequence? FixUp(Core core, ulong faultAddress)
    {
        PhysicalMemory memory = _platform.Memory;
        ulong table = core.Mmu.Pml4;
        var ops = new List<Op>(9) { Enter(PathLine.FixUp), Op.Alu(BookkeepingInstructions) };
        for (int level = 3; level >= 0; level--)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(faultAddress, level) * 8);
            ops.Add(Op.Load(DirectMapBase + entryAddress));
            ulong entry = memory.ReadUInt64(entryAddress);
            if (level == 0)
            {
                if ((entry & PageEntry.AddressMask) == 0)
                {
                    return null;
                }
                memory.WriteUInt64(entryAddress, entry | PageEntry.Present);
                ops.Add(Op.Store(DirectMapBase + entryAddress));
                break;
            }
            if ((entry & PageEntry.Present) == 0 || (entry & PageEntry.PageSize) != 0)
            {
                return null;
            }
            table = entry & PageEntry.AddressMask;
        }
        ops.Add(Op.Execute(Instruction.Iret));
        return new OpSequence([.. ops]);
    }
}
