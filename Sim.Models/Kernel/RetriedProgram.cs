using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// A program resumed after it slept in a page fault: the operation that faulted runs again first,
/// as a real CPU re-executes the faulting instruction on the return from the fault handler; then
/// the program goes on. Everything else is the program's own.
/// </summary>
internal sealed class RetriedProgram(Op retried, IProgram program) : IProgram
{
    /// <summary>The program resumed.</summary>
    public IProgram Program { get; } = program;

    /// <summary>Whether the retried operation has been handed out.</summary>
    public bool Spent { get; private set; }

    public long PendingArgument => Program.PendingArgument;

    public long PendingSecondArgument => Program.PendingSecondArgument;

    public long PendingCount => Program.PendingCount;

    public bool TryNext(out Op op)
    {
        if (!Spent)
        {
            Spent = true;
            op = retried;
            return true;
        }
        return Program.TryNext(out op);
    }

    public void Observed(ulong value) => Program.Observed(value);

    public void SyscallReturned(long result) => Program.SyscallReturned(result);

    public IProgram? SignalHandler(int signal) => Program.SignalHandler(signal);

    public IProgram ForkChild() => Program.ForkChild();
}
