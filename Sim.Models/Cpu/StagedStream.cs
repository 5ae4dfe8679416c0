namespace Sim.Models.Cpu;

/// <summary>
/// A kernel or hypervisor path built in stages: each stage's operations run, and only then is the
/// next stage built, so that it can depend on what the earlier ones did or read (a driver's
/// interrupt handler reads a status register and acts on its value; a hypervisor's scheduler
/// decides at the end of an exit handler which virtual CPU the core runs next).
/// </summary>
internal sealed class StagedStream(OpSequence first, Func<StagedStream.Stage>? then) : IOpStream
{
    private OpSequence _current = first;
    private Func<Stage>? _then = then;

    public bool TryNext(out Op op)
    {
        while (true)
        {
            if (_current.TryNext(out op))
            {
                return true;
            }
            if (_then is null)
            {
                return false;
            }
            Stage next = _then();
            (_current, _then) = (next.Operations, next.Then);
        }
    }

    /// <summary>One stage: its operations and the builder of the stage after it, if any.</summary>
    public readonly record struct Stage(OpSequence Operations, Func<Stage>? Then);
}
