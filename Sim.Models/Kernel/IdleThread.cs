using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>The idle loop of a kernel: enable interrupts, then halt until one comes, forever (a kernel thread at ring 0).</summary>
public sealed class IdleThread : IOpStream
{
    private bool _started;

    public bool TryNext(out Op op)
    {
        op = _started ? Op.Execute(Instruction.Hlt) : Op.Execute(Instruction.Sti);
        _started = true;
        return true;
    }
}
