using Sim.Engine.Time;
using Sim.Models.Cpu;

namespace Sim.Experiments.Runs;

/// <summary>
/// What each CPU of a guest did over time, for a timeline: running the guest's code, spinning for
/// a kernel spinlock, in the hypervisor (an exit, its handler, the switch to another virtual CPU),
/// waiting for its physical core (descheduled), or halted. Watches the contexts it is given (a
/// guest's virtual CPUs, <see cref="WorkloadRun.PreparedRun.AttachToFirstGuestCpus"/>) through
/// <see cref="ICoreTracer"/> up to a time, and merges what follows on without a gap into one span,
/// so that a long run keeps few spans.
/// </summary>
public sealed class VcpuTimeline : ICoreTracer
{
    /// <summary>What a CPU was doing during a span.</summary>
    public enum State
    {
        Guest,
        Spinning,
        Hypervisor,
        Descheduled,
        Halted,
    }

    /// <summary>A stretch of one CPU's time (<paramref name="Row"/>: its place among the watched CPUs) in one state, in ms of simulated time.</summary>
    public readonly record struct Span(int Row, State State, double StartMs, double EndMs);

    /// <summary>Pieces closer than this (cycles) are one span: finer than a timeline can show.</summary>
    private const ulong MergeCycles = 2_000;

    private readonly Dictionary<Core, int> _rowOf = [];
    private readonly (State State, ulong Start, ulong End)?[] _open;
    private readonly (State State, ulong From)?[] _gap; // a context that parked or halted: what it does until its next piece
    private readonly Core[] _rows;
    private readonly Tick _until;
    private readonly List<Span> _spans = [];

    /// <param name="rows">The CPUs to watch, one row each in this order.</param>
    /// <param name="until">Simulated time after which nothing more is recorded.</param>
    public VcpuTimeline(IReadOnlyList<Core> rows, Tick until)
    {
        ArgumentNullException.ThrowIfNull(rows);
        _rows = [.. rows];
        for (int i = 0; i < _rows.Length; i++)
        {
            _rowOf[_rows[i]] = i;
        }
        _open = new (State, ulong, ulong)?[_rows.Length];
        _gap = new (State, ulong)?[_rows.Length];
        _until = until;
    }

    /// <summary>The watched CPUs' names (their contexts' paths), by row.</summary>
    public IReadOnlyList<string> Rows => [.. _rows.Select(c => c.Path)];

    /// <summary>The spans recorded, each row's in time order (the ones still open included).</summary>
    public IReadOnlyList<Span> Spans
    {
        get
        {
            List<Span> all = [.. _spans];
            for (int row = 0; row < _rows.Length; row++)
            {
                if (_open[row] is { } open)
                {
                    all.Add(ToSpan(row, open.State, open.Start, open.End));
                }
            }
            return [.. all.OrderBy(s => s.Row).ThenBy(s => s.StartMs)];
        }
    }

    public void Executed(Core core, in Op op, CycleCategory mode, int depth, ulong start, ulong end)
    {
        if (!_rowOf.TryGetValue(core, out int row))
        {
            return;
        }
        switch (op.Kind)
        {
            case OpKind.Park:
                Piece(row, State.Hypervisor, start, end);
                _gap[row] = ((ParkReason)op.Count == ParkReason.Preempted ? State.Descheduled : State.Halted, end);
                return;
            case OpKind.Account:
                return;
            case OpKind.Instruction when op.Instruction == Instruction.Hlt && core.Halted:
                Piece(row, StateOf(op, mode), start, end);
                _gap[row] = (State.Halted, end);
                return;
            default:
                Piece(row, StateOf(op, mode), start, end);
                return;
        }
    }

    public void Event(Core core, string what, CycleCategory category, ulong start, ulong end)
    {
        if (_rowOf.TryGetValue(core, out int row))
        {
            Piece(row, State.Hypervisor, start, end);
        }
    }

    private static State StateOf(in Op op, CycleCategory mode) =>
        op.Kind == OpKind.SpinLock ? State.Spinning
        : mode is CycleCategory.Hypervisor or CycleCategory.DeviceEmulation or CycleCategory.WorldSwitch or CycleCategory.VmTransition ? State.Hypervisor
        : State.Guest;

    private void Piece(int row, State state, ulong start, ulong end)
    {
        if (_rows[row].Clock.EdgeTick(new Cycles(start)) > _until)
        {
            return;
        }
        if (_gap[row] is { } gap)
        {
            _gap[row] = null;
            if (start > gap.From)
            {
                Close(row);
                _spans.Add(ToSpan(row, gap.State, gap.From, start));
            }
        }
        if (_open[row] is { } open && open.State == state && start <= open.End + MergeCycles)
        {
            _open[row] = (state, open.Start, Math.Max(open.End, end));
            return;
        }
        Close(row);
        _open[row] = (state, start, Math.Max(start, end));
    }

    private void Close(int row)
    {
        if (_open[row] is { } open)
        {
            _spans.Add(ToSpan(row, open.State, open.Start, open.End));
            _open[row] = null;
        }
    }

    private Span ToSpan(int row, State state, ulong start, ulong end)
    {
        ClockDomain clock = _rows[row].Clock;
        return new Span(row, state, clock.EdgeTick(new Cycles(start)).Picoseconds / 1e9, clock.EdgeTick(new Cycles(end)).Picoseconds / 1e9);
    }
}
