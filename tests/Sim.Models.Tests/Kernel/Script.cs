using Sim.Models.Cpu;
using Sim.Models.Kernel;

namespace Sim.Models.Tests.Kernel;

/// <summary>
/// A test program given as steps; a step may look at the last system call's result and set the
/// next one's arguments. Forking runs <c>child</c>; a signal runs <see cref="Handler"/>'s program.
/// </summary>
internal sealed class Script(Func<Script, IEnumerable<Op>> body, Func<Script>? child = null) : IProgram
{
    private IEnumerator<Op>? _ops;

    public List<long> Results { get; } = [];

    public long LastResult => Results.Count == 0 ? 0 : Results[^1];

    public long PendingArgument { get; set; }

    public long PendingSecondArgument { get; set; }

    public long PendingCount { get; set; } = 4096;

    /// <summary>What the last locked exchange or observed load found.</summary>
    public ulong LastObserved { get; private set; }

    public void Observed(ulong value) => LastObserved = value;

    public Func<int, IProgram>? Handler { get; init; }

    public bool TryNext(out Op op)
    {
        _ops ??= body(this).GetEnumerator();
        bool more = _ops.MoveNext();
        op = more ? _ops.Current : default;
        return more;
    }

    public void SyscallReturned(long result) => Results.Add(result);

    public IProgram ForkChild() => (child ?? throw new InvalidOperationException("this script does not fork"))();

    public IProgram? SignalHandler(int signal) => Handler?.Invoke(signal);
}
