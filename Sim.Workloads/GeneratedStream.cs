using Sim.Models.Cpu;

namespace Sim.Workloads;

/// <summary>
/// An operation stream of <c>count</c> units (elements, updates, blocks, loop iterations) of
/// <c>steps</c> operations each, produced on demand by <c>next(unit, step)</c>: long runs
/// allocate nothing.
/// </summary>
public sealed class GeneratedStream(long count, int steps, Func<long, int, Op> next) : IOpStream
{
    private long _unit;
    private int _step;

    public bool TryNext(out Op op)
    {
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
