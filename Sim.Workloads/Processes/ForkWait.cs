using Sim.Models.Cpu;
using Sim.Models.Kernel;

namespace Sim.Workloads.Processes;

/// <summary>
/// forkwait of Adams and Agesen (ASPLOS 2006, Figure 4): <c>Size</c> times fork, and waitpid for
/// the child, which exits at once (40,000 times in the paper). After fork each side writes to its
/// stack, as returning from fork() does, which costs a copy-on-write fault. Figure of merit: the
/// run's simulated seconds, and microseconds per fork and wait.
/// </summary>
/// <remarks>
/// Model: the process image is an assumption standing for a small statically linked C program:
/// 32 pages of text, 8 of data, 8 of heap and 8 of stack, all resident. Fork's cost grows with it.
/// </remarks>
public sealed class ForkWait : ProcessWorkload
{

    public override string Name => "forkwait";

    public override string Description => "fork and waitpid for a child that exits at once, under the Linux-like kernel (size = forks)";

    public override IReadOnlyList<MemoryRegion> ProcessImage { get; } = Image(textPages: 32, dataPages: 8, stackPages: 8, new MemoryRegion("heap", 0x0000_0000_0100_0000, 8, Writable: true));

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new Parent(context.Size);
    }

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return
        [
            new Metric("seconds", outcome.SimulatedSeconds, "s"),
            new Metric("fork_wait_us", outcome.MicrosecondsEach(context.Size), "us per fork+wait"),
        ];
    }

    private static Op Call(SyscallNumber n) => Op.Execute(Instruction.Syscall, (ulong)n);

    private sealed class Parent(long forks) : IProgram
    {
        private long _done;
        private int _step;

        public bool TryNext(out Op op)
        {
            if (_done == forks)
            {
                op = _step++ == 0 ? Call(SyscallNumber.Exit) : default;
                return _step == 1;
            }
            switch (_step)
            {
                case 0:
                    op = Call(SyscallNumber.Fork);
                    break;
                case 1:
                    op = Op.Store(ExecutableImage.StackBase + 0x7F00); // fork() returns onto the stack: a COW fault
                    break;
                case 2:
                    op = Call(SyscallNumber.Wait4);
                    break;
                default:
                    op = Op.Alu(5); // the loop
                    _done++;
                    _step = -1;
                    break;
            }
            _step++;
            return true;
        }

        public void SyscallReturned(long result)
        {
        }

        public IProgram ForkChild() => new Child();
    }

    private sealed class Child : IProgram
    {
        private int _step;

        public bool TryNext(out Op op)
        {
            op = _step++ switch
            {
                0 => Op.Store(ExecutableImage.StackBase + 0x7F00),
                1 => Call(SyscallNumber.Exit),
                _ => default,
            };
            return _step <= 2;
        }

        public void SyscallReturned(long result)
        {
        }

        public IProgram ForkChild() => throw new InvalidOperationException("The forkwait child does not fork.");
    }
}
