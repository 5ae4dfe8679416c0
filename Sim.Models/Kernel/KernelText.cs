using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's code in simulated physical memory (a <see cref="CodeLayout{TRoutine}"/> of the
/// <see cref="KernelRoutine"/>s, sized from <see cref="LinuxKernelCosts"/>), and beside it one
/// line of kernel data per routine and CPU holding the locks and counters its locked operations
/// work on; an SMP kernel's own routines (<see cref="SmpRoutine"/>) come with its second CPU.
/// Reached through the direct map's global 2 MiB pages, as Linux's kernel text is reached through
/// its own 2 MiB mapping.
/// </summary>
public sealed class KernelText
{
    public const int InstructionsPerLine = CodeLayout<KernelRoutine>.InstructionsPerLine;

    private readonly PhysicalMemory _memory;
    private readonly CodeLayout<KernelRoutine> _code;
    private readonly List<ulong> _locks = []; // per CPU, a line per routine
    private CodeLayout<SmpRoutine>? _smpCode;
    private ulong _smpLocks;

    public KernelText(PhysicalMemory memory, LinuxKernelCosts costs)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(costs);
        Costs = costs;
        _memory = memory;
        _code = new CodeLayout<KernelRoutine>(memory, r => costs[r].Instructions);
        _locks.Add(NewLockLines());
    }

    /// <summary>
    /// One more CPU: its own lines for the routines' locks and counters (in an SMP kernel they stand
    /// for per-CPU and per-object data, which CPUs do not share), and, with the first secondary
    /// CPU, the SMP routines' text.
    /// </summary>
    public void AddCpu()
    {
        _locks.Add(NewLockLines());
        if (_smpCode is null)
        {
            _smpCode = new CodeLayout<SmpRoutine>(_memory, r => Costs[r].Instructions);
            _smpLocks = _memory.AllocateContiguous((ulong)(Enum.GetValues<SmpRoutine>().Length * KernelObjects.LineBytes));
        }
    }

    private ulong NewLockLines() => _memory.AllocateContiguous((ulong)(Enum.GetValues<KernelRoutine>().Length * KernelObjects.LineBytes));

    public LinuxKernelCosts Costs { get; }

    public ulong SizeBytes => _code.SizeBytes;

    /// <summary>Physical address of the first line of <paramref name="routine"/>'s code.</summary>
    public ulong AddressOf(KernelRoutine routine) => _code.AddressOf(routine);

    public int Lines(KernelRoutine routine) => _code.Lines(routine);

    /// <summary>Physical address of the line holding <paramref name="routine"/>'s locks and counters on CPU <paramref name="cpu"/> (kernel data, beside the text).</summary>
    public ulong LockOf(KernelRoutine routine, int cpu = 0) => _locks[cpu] + ((ulong)(int)routine * KernelObjects.LineBytes);

    /// <summary>Physical address of the first line of an SMP routine's code.</summary>
    public ulong AddressOf(SmpRoutine routine) => Smp.AddressOf(routine);

    public int Lines(SmpRoutine routine) => Smp.Lines(routine);

    /// <summary>Physical address of the line an SMP routine's locked operations work on (shared by the CPUs: these routines touch other CPUs' data).</summary>
    public ulong LockOf(SmpRoutine routine) => _smpLocks + ((ulong)(int)routine * KernelObjects.LineBytes);

    private CodeLayout<SmpRoutine> Smp => _smpCode ?? throw new InvalidOperationException("A kernel of one CPU has no SMP routines.");
}
