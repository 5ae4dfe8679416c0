using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// A signal handler as the process runs it: the handler's operations, then the return through
/// the signal trampoline (glibc's __restore_rt, which makes the rt_sigreturn system call).
/// </summary>
internal sealed class SignalHandlerProgram(IProgram handler) : IProgram
{
    private bool _returned;

    public long PendingArgument => handler.PendingArgument;

    public long PendingCount => handler.PendingCount;

    public long PendingSecondArgument => handler.PendingSecondArgument;

    public void Observed(ulong value) => handler.Observed(value);

    public bool TryNext(out Op op)
    {
        if (handler.TryNext(out op))
        {
            return true;
        }
        if (_returned)
        {
            return false;
        }
        _returned = true;
        op = Op.Execute(Instruction.Syscall, (ulong)SyscallNumber.RtSigreturn);
        return true;
    }

    public void SyscallReturned(long result) => handler.SyscallReturned(result);

    public IProgram ForkChild() => throw new InvalidOperationException("The model does not fork from inside a signal handler.");
}
