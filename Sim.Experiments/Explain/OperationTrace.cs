using System.Globalization;
using Sim.Models.Cpu;

namespace Sim.Experiments.Explain;

/// <summary>One thing a core did: an operation, or an event between operations (a VM exit or entry, an exception or interrupt delivered).</summary>
public sealed record TraceStep(bool IsEvent, string What, CycleCategory Category, int Depth, ulong Start, ulong End, Op Op)
{
    public ulong Cycles => End - Start;
}

/// <summary>Records every operation and event of a core (<see cref="ICoreTracer"/>), in order, with the cycles of each.</summary>
public sealed class OperationTrace : ICoreTracer
{
    private readonly List<TraceStep> _steps = [];

    public IReadOnlyList<TraceStep> Steps => _steps;

    /// <summary>
    /// An operation that raised events while it executed (an IN that exits, a VMRESUME that enters)
    /// is put before them, with only its own cycles: the events' are theirs.
    /// </summary>
    public void Executed(Core core, in Op op, CycleCategory mode, int depth, ulong start, ulong end)
    {
        if (op.Kind is OpKind.Account or OpKind.Park or OpKind.Return) // marks, not instructions (a translated return's lookup is traced as its own operations)
        {
            return;
        }
        int at = _steps.Count;
        ulong inside = 0;
        while (at > 0 && _steps[at - 1].IsEvent && _steps[at - 1].Start >= start)
        {
            at--;
            inside += _steps[at].Cycles;
        }
        _steps.Insert(at, new TraceStep(false, Describe(op), mode, depth, start, end - inside, op));
    }

    public void Event(Core core, string what, CycleCategory category, ulong start, ulong end) =>
        _steps.Add(new TraceStep(true, what, category, 0, start, end, default));

    /// <summary>An operation in words: a named instruction with its operand, or a block, a memory reference, a code fetch.</summary>
    public static string Describe(in Op op) => op.Kind switch
    {
        OpKind.Instruction when op.Instruction is Instruction.In or Instruction.Out => $"{Mnemonic(op)} port 0x{op.Operand:X}",
        OpKind.Instruction when op.Instruction is Instruction.MmioRead or Instruction.MmioWrite => $"{Mnemonic(op)} 0x{op.Operand:X}",
        OpKind.Instruction => Mnemonic(op),
        OpKind.Load => string.Create(CultureInfo.InvariantCulture, $"load 0x{op.Operand:X}"),
        OpKind.Store => string.Create(CultureInfo.InvariantCulture, $"store 0x{op.Operand:X}"),
        OpKind.Atomic => string.Create(CultureInfo.InvariantCulture, $"locked update 0x{op.Operand:X}"),
        OpKind.Fetch => string.Create(CultureInfo.InvariantCulture, $"code fetch 0x{op.Operand:X}"),
        OpKind.CallReturn => $"{op.Count} call/return pair(s)",
        _ => $"{op.Count} {op.Kind.ToString().ToLowerInvariant()} instruction(s)",
    };

    private static string Mnemonic(in Op op) => InstructionTable.Of(op.Instruction).Mnemonic;
}
