namespace Sim.Models.Cpu;

/// <summary>A source of operations for a core: a thread's code, or a kernel path.</summary>
public interface IOpStream
{
    /// <summary>The next operation; false when the stream has ended.</summary>
    bool TryNext(out Op op);

    /// <summary>
    /// The value a locked exchange or a word load of this stream's found in memory
    /// (<see cref="OpKind.Exchange"/>, <see cref="OpKind.CompareExchange"/>, <see cref="OpKind.LoadWord"/>),
    /// told before the stream's next operation is pulled, as the instruction leaves it in a
    /// register; for a program, also the first word of the datagram recvfrom gave it (its
    /// request's id). Streams that use none ignore it.
    /// </summary>
    void Observed(ulong value)
    {
    }
}
