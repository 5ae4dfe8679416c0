using Sim.Models.Cpu;
using Sim.Models.Memory;

namespace Sim.Models.Virtualization;

/// <summary>
/// A hypervisor handler being assembled as operations: runs of its code (each line fetched, its
/// instructions executed), loads and stores on its data through its map of host memory, VMCS
/// reads and writes, and the marks that move the rest of the handler's cycles to another
/// category (the device model's share). Host-physical addresses are reached at
/// <paramref name="linearBase"/> plus the address: the hypervisor's map of host memory.
/// </summary>
internal sealed class HypervisorPath(CodeLayout<HypervisorRoutine> text, HypervisorCosts costs, ulong linearBase)
{
    private readonly List<Op> _ops = [];

    /// <summary>Runs <paramref name="routine"/>: each line of its code fetched, its instructions executed as an ordinary block.</summary>
    public HypervisorPath Run(HypervisorRoutine routine)
    {
        ulong code = Linear(text.AddressOf(routine));
        int instructions = costs[routine];
        for (int line = 0; line < text.Lines(routine); line++)
        {
            int done = line * CodeLayout<HypervisorRoutine>.InstructionsPerLine;
            _ops.Add(Op.Fetch(code + (ulong)(line * CodeLayout<HypervisorRoutine>.LineBytes)));
            _ops.Add(Op.Alu(Math.Min(CodeLayout<HypervisorRoutine>.InstructionsPerLine, instructions - done)));
        }
        return this;
    }

    /// <summary>Runs <paramref name="routine"/> <paramref name="times"/> times (none for 0): a loop's body, once per item.</summary>
    public HypervisorPath Run(HypervisorRoutine routine, int times)
    {
        for (int i = 0; i < times; i++)
        {
            Run(routine);
        }
        return this;
    }

    /// <summary><paramref name="count"/> consecutive 8-byte stores from host-physical <paramref name="physical"/> (saving registers).</summary>
    public HypervisorPath StoreWords(ulong physical, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _ops.Add(Op.Store(Linear(physical + (ulong)(8 * i))));
        }
        return this;
    }

    /// <summary>Zeroes <paramref name="bytes"/> from host-physical <paramref name="physical"/> a cache line at a time, as clear_page's rep stos writes whole lines.</summary>
    public HypervisorPath ZeroLines(ulong physical, ulong bytes) => PerLine(bytes, offset => _ops.Add(Op.Store(Linear(physical + offset))));

    /// <summary>Reads <paramref name="bytes"/> from host-physical <paramref name="physical"/>, a load per cache line (a compare or a checksum over a page).</summary>
    public HypervisorPath LoadLines(ulong physical, ulong bytes) => PerLine(bytes, offset => _ops.Add(Op.Load(Linear(physical + offset))));

    /// <summary>Copies <paramref name="bytes"/> from host-physical <paramref name="from"/> to <paramref name="to"/>, a load and a store per cache line (copy_page).</summary>
    public HypervisorPath CopyLines(ulong from, ulong to, ulong bytes) => PerLine(bytes, offset =>
    {
        _ops.Add(Op.Load(Linear(from + offset)));
        _ops.Add(Op.Store(Linear(to + offset)));
    });

    private HypervisorPath PerLine(ulong bytes, Action<ulong> line)
    {
        for (ulong offset = 0; offset < bytes; offset += (ulong)CodeLayout<HypervisorRoutine>.LineBytes)
        {
            line(offset);
        }
        return this;
    }

    /// <summary><paramref name="count"/> consecutive 8-byte loads from host-physical <paramref name="physical"/> (restoring registers).</summary>
    public HypervisorPath LoadWords(ulong physical, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _ops.Add(Op.Load(Linear(physical + (ulong)(8 * i))));
        }
        return this;
    }

    /// <summary>A locked read-modify-write of the word at host-physical <paramref name="physical"/> (an xchg).</summary>
    public HypervisorPath Atomic(ulong physical)
    {
        _ops.Add(Op.Atomic(Linear(physical)));
        return this;
    }

    public HypervisorPath Execute(Instruction instruction, ulong operand = 0)
    {
        _ops.Add(Op.Execute(instruction, operand));
        return this;
    }

    public HypervisorPath Add(Op op)
    {
        _ops.Add(op);
        return this;
    }

    public HypervisorPath ChargeTo(CycleCategory category)
    {
        _ops.Add(Op.ChargeTo(category));
        return this;
    }

    public OpSequence ToStream() => new([.. _ops]);

    private ulong Linear(ulong physical) => linearBase + physical;
}
