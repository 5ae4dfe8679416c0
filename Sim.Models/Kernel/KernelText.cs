using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's code in simulated physical memory: each routine of <see cref="KernelRoutine"/>
/// occupies its own run of cache lines, sized from its instruction count, so that running a
/// routine fetches its lines through the instruction cache and meets the misses a cold kernel
/// path meets. Reached through the direct map's global 2 MiB pages, as Linux's kernel text is
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
    }

    public LinuxKernelCosts Costs { get; }

    public ulong SizeBytes { get; }

    /// <summary>Physical address of the first line of <paramref name="routine"/>'s code.</summary>
    public ulong AddressOf(KernelRoutine routine) => _start[(int)routine];

    public int Lines(KernelRoutine routine) => (Costs[routine] + InstructionsPerLine - 1) / InstructionsPerLine;
}
