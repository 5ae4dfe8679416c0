using Sim.Models.Cpu;
using Sim.Models.Kernel;

namespace Sim.Workloads.Processes;

/// <summary>
/// forkwait of Adams and Agesen (ASPLOS 2006, Figure 4): <c>Size</c> times fork, and waitpid for
/// the child, which exits at once (40,000 times in the paper), as a dynamically linked C program
/// (<see cref="GlibcProcess"/>): the child runs glibc's fork return path and exit(), faulting in
/// the library text it runs and copying the pages it writes; the parent, running after the
/// child, writes its shared pages again. Figure of merit: the run's simulated seconds, and
/// microseconds per fork and wait.
/// </summary>
public sealed class ForkWait : ProcessWorkload
{
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<WorkloadContext, GlibcProcess> _processes = [];

    public override string Name => "forkwait";

    public override string Description => "fork and waitpid for a child that exits at once, under the Linux-like kernel (size = forks)";

    public override void ConfigureKernel(LinuxKernel kernel, WorkloadContext context) =>
        _processes.AddOrUpdate(context, GlibcProcess.Load(kernel, "forkwait"));

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) => Process(context).Regions;

    public override IProgram CreateProgram(WorkloadContext context)
    {
        GlibcProcess glibc = Process(context);
        long forks = context.Size;
        IEnumerable<Op> Parent(ScriptProgram _)
        {
            foreach (Op op in glibc.Startup())
            {
                yield return op;
            }
            for (long i = 0; i < forks; i++)
            {
                foreach (Op op in glibc.ForkCall().Concat(glibc.ParentAfterFork()).Concat(glibc.WaitPid()))
                {
                    yield return op;
                }
                yield return Op.Alu(5); // the loop
            }
            foreach (Op op in glibc.Exit())
            {
                yield return op;
            }
        }
        return new ScriptProgram(Parent, () => new ScriptProgram(_ => glibc.ChildAfterFork().Concat(glibc.Exit())));
    }

    public override IReadOnlyList<string> FigureNames => ["seconds", "fork_wait_us"];

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

    private GlibcProcess Process(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return _processes.TryGetValue(context, out GlibcProcess? process)
            ? process
            : throw new InvalidOperationException("forkwait runs under the Linux-like kernel: ConfigureKernel must load its libraries first.");
    }
}
