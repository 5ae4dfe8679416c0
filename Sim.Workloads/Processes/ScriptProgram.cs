using Sim.Models.Cpu;
using Sim.Models.Kernel;

namespace Sim.Workloads.Processes;

/// <summary>
/// A user program written as a C# iterator of operations: it can read the result of its last
/// system call (<see cref="LastResult"/>) and set the argument of the next one
/// (<see cref="PendingArgument"/>) between yields, since the core pulls the next operation only
/// after the previous one has run; so can it the value its last locked exchange found
/// (<see cref="LastObserved"/>). Forking runs the child script.
/// </summary>
public sealed class ScriptProgram(Func<ScriptProgram, IEnumerable<Op>> body, Func<ScriptProgram>? child = null) : IProgram
{
    private IEnumerator<Op>? _ops;

    public long LastResult { get; private set; }

    public long PendingArgument { get; set; }

    public long PendingSecondArgument { get; set; }

    public long PendingCount { get; set; } = 4096;

    /// <summary>The old value of the word the program's last locked exchange found (<see cref="OpKind.Exchange"/>, <see cref="OpKind.CompareExchange"/>).</summary>
    public ulong LastObserved { get; private set; }

    public void Observed(ulong value) => LastObserved = value;

    /// <summary>The signal handlers the program installs with rt_sigaction: the handler program for a signal.</summary>
    public Func<int, IProgram>? Handlers { get; init; }

    public IProgram? SignalHandler(int signal) => Handlers?.Invoke(signal);

    public static Op Call(SyscallNumber number) => Op.Execute(Instruction.Syscall, (ulong)number);

    /// <summary>A forked child's whole script: execve of the registered executable <paramref name="image"/>, whose program then runs in its place.</summary>
    public static IEnumerable<Op> Exec(ScriptProgram p, int image)
    {
        ArgumentNullException.ThrowIfNull(p);
        p.PendingArgument = image;
        yield return Call(SyscallNumber.Execve);
    }

    public bool TryNext(out Op op)
    {
        _ops ??= body(this).GetEnumerator();
        bool more = _ops.MoveNext();
        op = more ? _ops.Current : default;
        return more;
    }

    public void SyscallReturned(long result) => LastResult = result;

    public IProgram ForkChild() => (child ?? throw new InvalidOperationException("This program does not fork."))();
}
