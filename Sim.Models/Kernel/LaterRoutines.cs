using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// A block of kernel routines laid out after the boot-time text, the first time a kernel needs
/// one of them (<see cref="LayOut"/>): their code and one shared line of locks and counters per
/// routine. A kernel that never runs them never allocates the block, so everything it does
/// allocate stays where it was before the routines existed, and its results with it.
/// </summary>
internal sealed class LaterRoutines<TRoutine>(PhysicalMemory memory, Func<TRoutine, int> instructions)
    where TRoutine : struct, Enum
{
    private CodeLayout<TRoutine>? _code;
    private ulong _locks;

    /// <summary>Lays the block out if it is not yet: the code, then the lock lines; returns the block.</summary>
    public LaterRoutines<TRoutine> LayOut()
    {
        if (_code is null)
        {
            _code = new CodeLayout<TRoutine>(memory, instructions);
            _locks = memory.AllocateContiguous((ulong)(Enum.GetValues<TRoutine>().Length * KernelObjects.LineBytes));
        }
        return this;
    }

    public CodeLayout<TRoutine> Code => _code ?? throw new InvalidOperationException($"The {typeof(TRoutine).Name}s are not laid out yet.");

    /// <summary>Physical address of <paramref name="routine"/>'s lock line.</summary>
    public ulong LockOf(TRoutine routine) => _locks + ((ulong)System.Runtime.CompilerServices.Unsafe.As<TRoutine, int>(ref routine) * KernelObjects.LineBytes);
}
