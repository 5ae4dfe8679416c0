using Sim.Models.Cpu;

namespace Sim.Workloads;

/// <summary>
/// An operation stream of <c>count</c> units (elements, updates, blocks, loop iterations) of
/// <c>steps</c> operations each, produced on demand by <c>next(unit, step)</c>: long runs
/// allocate nothing. With <c>first</c>, that operation comes before the first unit (control
/// entering the loop's code).
/// </summary>
public sealed class GeneratedStream(long count, int steps, Func<long, int, Op> next, Op? first = null) : IOpStream
{
    private long _unit;
    private int _step;
    private bool _started = first is null;

    public bool TryNext(out Op op)
    {
        if (!_started && count > 0)
        {
            _started = true;
            op = first!.Value;
            return true;
        }
        if (_unit >= count)
        {
            op = default;
            return false;
        }
        op = next(_unit, _step);
        if (++_step == steps)
        {
            _step = 0;
            _unit++;
        }
        return true;
    }
}
