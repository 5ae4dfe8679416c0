using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's code in simulated physical memory (a <see cref="CodeLayout{TRoutine}"/> of the
/// <see cref="KernelRoutine"/>s, sized from <see cref="LinuxKernelCosts"/>), and beside it one
/// line of kernel data per routine holding the locks and counters its locked operations work on.
/// Reached through the direct map's global 2 MiB pages, as Linux's kernel text is reached through
/// its own 2 MiB mapping.
/// </summary>
public sealed class KernelText
{
    public const int InstructionsPerLine = CodeLayout<KernelRoutine>.InstructionsPerLine;

    private readonly CodeLayout<KernelRoutine> _code;
    private readonly ulong _locks;

    public KernelText(PhysicalMemory memory, LinuxKernelCosts costs)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(costs);
        Costs = costs;
        _code = new CodeLayout<KernelRoutine>(memory, r => costs[r].Instructions);
        _locks = memory.AllocateContiguous((ulong)(Enum.GetValues<KernelRoutine>().Length * KernelObjects.LineBytes));
    }

    public LinuxKernelCosts Costs { get; }

    public ulong SizeBytes => _code.SizeBytes;

    /// <summary>Physical address of the first line of <paramref name="routine"/>'s code.</summary>
    public ulong AddressOf(KernelRoutine routine) => _code.AddressOf(routine);

    public int Lines(KernelRoutine routine) => _code.Lines(routine);

    /// <summary>Physical address of the line holding <paramref name="routine"/>'s locks and counters (kernel data, beside the text).</summary>
    public ulong LockOf(KernelRoutine routine) => _locks + ((ulong)(int)routine * KernelObjects.LineBytes);
}
