using Sim.Models.Cpu;
using Sim.Models.Kernel;
using Sim.Models.Paging;

namespace Sim.Workloads.Nanobenchmarks;

/// <summary>
/// One of the nanobenchmarks of Adams and Agesen (ASPLOS 2006, Figure 4): a loop of <c>Size</c>
/// iterations around a single operation, followed by the loop control (a decrement and a taken
/// branch). Its figure of merit here is cycles per iteration, loop included; the cost of the
/// operation alone comes from a difference of runs (the calibration runner does that).
/// </summary>
public sealed class Nanobenchmark : IWorkload
{
    private readonly Func<WorkloadContext, Func<long, Op>> _body;
    private readonly Action<WorkloadContext>? _prepare;

    private Nanobenchmark(string name, string description, int cpl, Func<WorkloadContext, Func<long, Op>> body, Action<WorkloadContext>? prepare = null)
    {
        Name = name;
        Description = description;
        Cpl = cpl;
        _body = body;
        _prepare = prepare;
    }

    public string Name { get; }

    public string Description { get; }

    public int Cpl { get; }

    /// <summary>
    /// The nanobenchmarks, in the order of the paper's Figure 4 (forkwait needs the full kernel and
    /// is a process workload), then <c>rdtsc</c>, the instruction whose three emulations the paper's
    /// section on adaptive binary translation measures (trap, callout, in the translation cache).
    /// </summary>
    public static IReadOnlyList<Nanobenchmark> All { get; } =
    [
        new("syscall", "a null system call from user mode: SYSCALL, the kernel's entry path, SYSRET", 3,
            _ => _ => Op.Execute(Instruction.Syscall)),
        new("in", "an IN from port 0x80 (the POST port) in kernel mode: one legacy-bus I/O cycle", 0,
            _ => _ => Op.In(0x80)),
        new("cr8wr", "a write of the task priority register (MOV CR8) in kernel mode", 0,
            _ => _ => Op.Execute(Instruction.MovToCr8, 0)),
        new("callret", "a call to a subroutine that returns at once", 3,
            _ => _ => Op.CallReturn(1)),
        new("pgfault", "a load from a page whose entry is not present; the kernel walks the tables in software, sets the present bit and resumes", 3,
            _ => i => Op.Load(WorkloadContext.DataBase + ((ulong)i * 4096)),
            c =>
            {
                for (long i = 0; i < c.Size; i++)
                {
                    c.Space.Map4K(WorkloadContext.DataBase + ((ulong)i * 4096), c.Memory.AllocateFrame(), PageEntry.Writable | PageEntry.User, present: false);
                }
            }),
        new("divzero", "a divide by zero in kernel mode; the handler skips the instruction", 0,
            _ => _ => new Op(OpKind.Divide, default, 1, 1)),
        new("ptemod", "a store that rewrites a live page-table entry with its current value, through the kernel's direct map (the first iteration touches the page instead, so the mapping is in use)", 0,
            c =>
            {
                ulong pte = MinimalKernel.DirectMapBase + c.Space.LeafEntryAddress(WorkloadContext.DataBase)!.Value;
                return i => i == 0 ? Op.Load(WorkloadContext.DataBase) : Op.Store(pte);
            },
            c => c.MapData(WorkloadContext.DataBase, 4096)),
        new("rdtsc", "a read of the time-stamp counter (RDTSC) in kernel mode", 0,
            _ => _ => Op.Execute(Instruction.Rdtsc)),
    ];

    public static Nanobenchmark Get(string name) =>
        All.FirstOrDefault(b => b.Name == name)
        ?? throw new ArgumentException($"There is no nanobenchmark '{name}'; they are: {string.Join(", ", All.Select(b => b.Name))}.", nameof(name));

    public void Prepare(WorkloadContext context) => _prepare?.Invoke(context);

    /// <summary>
    /// The loop: the operation, an ALU instruction and the branch back. A kernel-mode loop's code
    /// is a line in memory, entered once (a binary translator translates it as it translates any
    /// kernel code; the branch back stays in the line); a user-mode loop's fetch is not simulated.
    /// </summary>
    public IOpStream CreateStream(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Func<long, Op> body = _body(context);
        Op? entry = Cpl == 0 ? Op.Fetch(MinimalKernel.DirectMapBase + context.Memory.AllocateFrame(), ControlTransfer.DirectCall) : null;
        return new GeneratedStream(context.Size, 3, (i, step) => step switch
        {
            0 => body(i),
            1 => Op.Alu(1),
            _ => Op.Branch(1),
        }, entry);
    }

    /// <summary>The same loop without the operation: the baseline that a measurement subtracts.</summary>
    public static IOpStream CreateEmptyLoop(long iterations) =>
        new GeneratedStream(iterations, 2, (_, step) => step == 0 ? Op.Alu(1) : Op.Branch(1));

    public IReadOnlyList<string> FigureNames => ["cycles_per_iteration"];

    public IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return [new Metric("cycles_per_iteration", (double)outcome.CoreCycles / context.Size, "cycles")];
    }
}
