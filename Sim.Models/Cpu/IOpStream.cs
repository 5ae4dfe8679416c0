namespace Sim.Models.Cpu;

/// <summary>A source of operations for a core: a thread's code, or a kernel path.</summary>
public interface IOpStream
{
    /// <summary>The next operation; false when the stream has ended.</summary>
    bool TryNext(out Op op);

    /// <summary>
    /// The value a locked exchange of this stream's found in memory (<see cref="OpKind.Exchange"/>,
    /// <see cref="OpKind.CompareExchange"/>), told before the stream's next operation is pulled, as
    /// the instruction leaves it in a register. Streams that issue none ignore it.
    /// </summary>
    void Observed(ulong value)
    {
    }
}
