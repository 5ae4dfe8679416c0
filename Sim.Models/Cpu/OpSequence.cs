namespace Sim.Models.Cpu;

/// <summary>A fixed sequence of operations (a kernel path, a test program), replayable with <see cref="Rewind"/>.</summary>
public sealed class OpSequence : IOpStream
{
    private readonly Op[] _ops;
    private int _next;

    public OpSequence(params Op[] ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        _ops = ops;
    }

    public int Length => _ops.Length;

    public bool TryNext(out Op op)
    {
        if (_next < _ops.Length)
        {
            op = _ops[_next++];
            return true;
        }
        op = default;
        return false;
    }

    /// <summary>Starts the sequence again from its first operation; returns it for chaining.</summary>
    public OpSequence Rewind()
    {
        _next = 0;
        return this;
    }
}
