using Sim.Models.Cpu;

namespace Sim.Workloads.Nanobenchmarks;

/// <summary>
/// A measurement loop: <c>iterations</c> times the operation under test (if any), then the loop
/// control (a decrement and a taken branch). Generated on demand, so a long loop allocates nothing.
/// </summary>
public sealed class LoopStream(int iterations, Func<int, Op>? body) : IOpStream
{
    private int _iteration;
    private int _step;

    public bool TryNext(out Op op)
    {
        while (_iteration < iterations)
        {
            switch (_step++)
            {
                case 0:
                    if (body is null)
                    {
                        continue;
                    }
                    op = body(_iteration);
                    return true;
                case 1:
                    op = Op.Alu(1);
                    return true;
                default:
                    op = Op.Branch(1);
                    _step = 0;
                    _iteration++;
                    return true;
            }
        }
        op = default;
        return false;
    }
}
