using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// Signals: rt_sigaction installs a handler, kill sends a signal, delivery on the way back to user
/// mode writes a signal frame on the user stack and runs the handler, rt_sigreturn reads the
/// frame back and resumes the interrupted program. A signal without a handler takes its default
/// action: ignored for SIGCHLD, SIGURG and SIGWINCH, otherwise the process dies with status
/// 128 + the signal.
/// </summary>
/// <remarks>Model: kill sends only to the caller itself (kill(getpid(), sig), as lmbench's lat_sig does); no masks, no queued real-time signals.</remarks>
public sealed partial class LinuxKernel
{
    private const long Einval = -22;
    private const int Sigkill = 9;
    private const int Sigstop = 19;
    public const int Sigchld = 17;
    private const int Sigurg = 23;
    private const int Sigwinch = 28;
    private const int RedZoneBytes = 128; // the x86-64 ABI's red zone below the stack pointer, which the frame skips

    private static bool ValidSignal(long signal) => signal is >= 1 and <= 64;

    private static void SignalAction(KernelPath path, Process p, long signal)
    {
        path.Run(KernelRoutine.SignalAction);
        if (!ValidSignal(signal) || signal is Sigkill or Sigstop)
        {
            p.Program.SyscallReturned(Einval);
            return;
        }
        path.Store(p.KernelMemory.SignalHandlers + ((ulong)(signal - 1) * 32)); // the k_sigaction entry
        p.HandledSignals |= 1UL << (int)(signal - 1);
        p.Program.SyscallReturned(0);
    }

    private void Kill(Core core, KernelPath path, Process p, long signal)
    {
        path.Run(KernelRoutine.Kill).Load(p.KernelMemory.Task);
        if (!ValidSignal(signal))
        {
            p.Program.SyscallReturned(Einval);
            return;
        }
        p.PendingSignals |= 1UL << (int)(signal - 1);
        p.Program.SyscallReturned(0);
        DeliverSignals(core, path, p);
    }

    /// <summary>On the way back to user mode: the lowest pending signal is delivered (one per return, as Linux's do_signal does).</summary>
    private void DeliverSignals(Core core, KernelPath path, Process p)
    {
        if (p.PendingSignals == 0 || p.Interrupted is not null)
        {
            return; // a handler already runs: the next signal waits for its rt_sigreturn
        }
        int signal = System.Numerics.BitOperations.TrailingZeroCount(p.PendingSignals) + 1;
        p.PendingSignals &= ~(1UL << (signal - 1));
        bool handled = (p.HandledSignals & (1UL << (signal - 1))) != 0;
        if (!handled)
        {
            if (signal is not (Sigchld or Sigurg or Sigwinch))
            {
                Exit(core, path, p, 128 + signal);
            }
            return;
        }
        IProgram handler = p.Program.SignalHandler(signal)
            ?? throw new InvalidOperationException($"Process {p.Pid} installed a handler for signal {signal} but its program has none to run.");
        _signalsDelivered.Increment();
        path.Run(KernelRoutine.SignalDelivery).Load(p.KernelMemory.SignalHandlers + ((ulong)(signal - 1) * 32));
        ulong frame = SignalFrameAddress(p);
        path.StoreRange(frame, KernelObjects.SignalFrameLines * KernelObjects.LineBytes); // setup_rt_frame: user registers, siginfo, FPU state
        p.Interrupted = (p.Program, frame);
        p.Program = new SignalHandlerProgram(handler);
        core.ReplaceUserStream(p.Program);
    }

    /// <summary>rt_sigreturn: the frame is read back and the interrupted program resumes where it was.</summary>
    private void SignalReturn(Core core, KernelPath path, Process p)
    {
        path.Run(KernelRoutine.SignalReturn);
        if (p.Interrupted is not { } interrupted)
        {
            Exit(core, path, p, 128 + 11); // rt_sigreturn outside a handler: a bad frame, SIGSEGV
            return;
        }
        path.LoadRange(interrupted.Frame, KernelObjects.SignalFrameLines * KernelObjects.LineBytes);
        p.Interrupted = null;
        p.Program = interrupted.Program;
        core.ReplaceUserStream(p.Program);
        DeliverSignals(core, path, p);
    }

    /// <summary>Where the frame goes: below the red zone under the stack pointer, taken as one page under the top of the stack region (the model does not track the stack pointer).</summary>
    private static ulong SignalFrameAddress(Process p)
    {
        MemoryRegion stack = p.Regions.LastOrDefault(r => r.Name == "stack")
            ?? throw new InvalidOperationException($"Process {p.Pid} has no stack region to take a signal frame.");
        ulong top = stack.Start + (stack.Pages * 4096);
        return (top - RedZoneBytes - 4096 - (ulong)(KernelObjects.SignalFrameLines * KernelObjects.LineBytes)) & ~63UL;
    }
}
