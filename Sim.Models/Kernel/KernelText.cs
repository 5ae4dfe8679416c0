using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's code in simulated physical memory: each routine of <see cref="KernelRoutine"/>
/// occupies its own run of cache lines, sized from its instruction count, so that running a
/// routine fetches its lines through the instruction cache and meets the misses a cold kernel
/// path meets; and beside the code, one line of kernel data per routine holding the locks and
/// counters its locked operations work on. Reached through the direct map's global 2 MiB pages, as Linux's kernel text is
/// reached through its own 2 MiB mapping.
/// </summary>
/// <remarks>
/// Model: a routine's code is as long as the instructions it executes (straight-line, which
/// overstates the footprint of code with loops inside), at 4 bytes per instruction (assumed: the
/// average length of x86-64 integer code is between 3 and 4.5 bytes by most counts).
/// </remarks>
public sealed class KernelText
{
    public const int BytesPerInstruction = 4;
    public const int InstructionsPerLine = KernelObjects.LineBytes / BytesPerInstruction;

    private readonly ulong[] _start;
    private readonly ulong _locks;

    public KernelText(PhysicalMemory memory, LinuxKernelCosts costs)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(costs);
        Costs = costs;
        KernelRoutine[] routines = Enum.GetValues<KernelRoutine>();
        _start = new ulong[routines.Length];
        ulong offset = 0;
        foreach (KernelRoutine r in routines)
        {
            _start[(int)r] = offset;
            offset += (ulong)(Lines(r) * KernelObjects.LineBytes);
        }
        ulong first = memory.AllocateContiguous(offset);
        for (int i = 0; i < _start.Length; i++)
        {
            _start[i] += first;
        }
        SizeBytes = offset;
        _locks = memory.AllocateContiguous((ulong)(routines.Length * KernelObjects.LineBytes));
    }

    public LinuxKernelCosts Costs { get; }

    public ulong SizeBytes { get; }

    /// <summary>Physical address of the first line of <paramref name="routine"/>'s code.</summary>
    public ulong AddressOf(KernelRoutine routine) => _start[(int)routine];

    public int Lines(KernelRoutine routine) => (Costs[routine].Instructions + InstructionsPerLine - 1) / InstructionsPerLine;

    /// <summary>Physical address of the line holding <paramref name="routine"/>'s locks and counters (kernel data, beside the text).</summary>
    public ulong LockOf(KernelRoutine routine) => _locks + ((ulong)(int)routine * KernelObjects.LineBytes);
}
