namespace Sim.Models.Cpu;

/// <summary>A source of operations for a core: a thread's code, or a kernel path.</summary>
public interface IOpStream
{
    /// <summary>The next operation; false when the stream has ended.</summary>
    bool TryNext(out Op op);
}
