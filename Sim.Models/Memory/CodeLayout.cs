using System.Runtime.CompilerServices;
using Sim.Engine.Randomness;

namespace Sim.Models.Memory;

/// <summary>
/// Where a program's routines lie in physical memory: each routine of <typeparamref name="TRoutine"/>
/// gets its own run of cache lines, sized from its instruction count at
/// <see cref="BytesPerInstruction"/>, so that running a routine fetches its lines through the
/// instruction cache and meets the misses a cold path meets. Used for the kernel's text and the
/// hypervisor's.
/// </summary>
/// <remarks>
/// Model: a routine's code is as long as the instructions it executes (straight-line, which
/// overstates the footprint of code with loops inside), at 4 bytes per instruction (assumed: the
/// average length of x86-64 integer code is between 3 and 4.5 bytes by most counts).
/// </remarks>
public sealed class CodeLayout<TRoutine>
    where TRoutine : struct, Enum
{
    public const int BytesPerInstruction = 4;
    public const int LineBytes = 64;
    public const int InstructionsPerLine = LineBytes / BytesPerInstruction;

    private readonly ulong[] _start;
    private readonly int[] _lines;

    /// <param name="memory">Where the code is placed (one contiguous run, as a kernel image is).</param>
    /// <param name="instructions">How many instructions each routine executes.</param>
    /// <param name="reservedBytes">The size of the run to place it in, if larger than the code: a fixed image, so that a routine added later moves nothing allocated after it (and no result changes through where other structures fall in the caches); 0 for just the code.</param>
    public CodeLayout(PhysicalMemory memory, Func<TRoutine, int> instructions, ulong reservedBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(instructions);
        if (Unsafe.SizeOf<TRoutine>() != sizeof(int))
        {
            throw new ArgumentException($"{typeof(TRoutine).Name} must be an int-backed enum.");
        }
        TRoutine[] routines = Enum.GetValues<TRoutine>();
        _start = new ulong[routines.Length];
        _lines = new int[routines.Length];
        ulong offset = 0;
        foreach (TRoutine r in routines)
        {
            int i = Index(r);
            _lines[i] = (instructions(r) + InstructionsPerLine - 1) / InstructionsPerLine;
            _start[i] = offset;
            offset += (ulong)(_lines[i] * LineBytes);
        }
        if (reservedBytes != 0 && offset > reservedBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(reservedBytes), $"{typeof(TRoutine).Name}'s code takes {offset} bytes, more than the {reservedBytes} reserved for it.");
        }
        ulong bytes = Math.Max(offset, reservedBytes);
        ulong first = memory.AllocateContiguous(bytes);
        for (int i = 0; i < _start.Length; i++)
        {
            _start[i] += first;
        }
        SizeBytes = offset;
        LabelPages(memory, first, bytes);
    }

    /// <summary>
    /// Names each page of the code by the program and its layout (every routine's length), so
    /// that two images of the same code hold pages of equal contents wherever they were placed,
    /// and images laid out differently do not.
    /// </summary>
    private void LabelPages(PhysicalMemory memory, ulong first, ulong bytes)
    {
        ulong layout = StableHash.Fnv1a64(typeof(TRoutine).FullName!);
        foreach (int lines in _lines)
        {
            layout = StableHash.Combine(layout, (ulong)lines);
        }
        for (ulong page = 0; page * PhysicalMemory.FrameBytes < bytes; page++)
        {
            memory.SetContent(first + (page * PhysicalMemory.FrameBytes), StableHash.Combine(layout, page));
        }
    }

    public ulong SizeBytes { get; }

    /// <summary>Physical address of the first line of <paramref name="routine"/>'s code.</summary>
    public ulong AddressOf(TRoutine routine) => _start[Index(routine)];

    /// <summary>How many cache lines <paramref name="routine"/>'s code spans.</summary>
    public int Lines(TRoutine routine) => _lines[Index(routine)];

    private static int Index(TRoutine routine) => Unsafe.As<TRoutine, int>(ref routine);
}
