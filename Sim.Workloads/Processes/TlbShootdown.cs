using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// The TLB-shootdown microbenchmark: the main thread starts <see cref="ThreadedProcessWorkload.Threads"/> - 1 threads
/// that compute (one per other CPU, when there are as many CPUs), then <c>Size</c> times maps a
/// page, touches it and unmaps it. Each munmap must flush the page from every CPU that may hold
/// the address space's translations, by IPI, and wait for all of them. The main thread times its
/// loop with clock_gettime. Figures: microseconds per map, touch and unmap round, and the run's
/// seconds.
/// </summary>
public sealed class TlbShootdown : ThreadedProcessWorkload
{
    /// <summary>Each computing thread's work per round of the main thread, in 1,000-instruction blocks (assumed: enough to outlast the loop).</summary>
    private const int BlocksPerRound = 40;

    public override string Name => "tlb-shootdown";

    public override string Description => "threads computing on every CPU while one maps, touches and unmaps a page in a loop (size = rounds; process_threads = threads)";

    protected override ThreadedProcessWorkload New() => new TlbShootdown();

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long rounds = context.Size;
        TimedSection loop = context.State<TimedSection>();
        IEnumerable<Op> Main(ScriptProgram p)
        {
            foreach (Op op in StartThreads(p))
            {
                yield return op;
            }
            yield return Op.Alu(20_000); // the threads start on their CPUs
            yield return Call(SyscallNumber.ClockGettime);
            loop.Started = p.LastResult;
            for (long r = 0; r < rounds; r++)
            {
                p.PendingArgument = 1;
                yield return Call(SyscallNumber.Mmap);
                ulong page = (ulong)p.LastResult;
                yield return Op.Store(page);
                p.PendingArgument = (long)page;
                yield return Call(SyscallNumber.Munmap);
            }
            yield return Call(SyscallNumber.ClockGettime);
            loop.Ended = p.LastResult;
            foreach (Op op in JoinThreads(p))
            {
                yield return op;
            }
            yield return Call(SyscallNumber.Exit);
        }
        IEnumerable<Op> Compute()
        {
            for (long b = 0; b < rounds * BlocksPerRound; b++)
            {
                yield return Op.Alu(1_000);
            }
            yield return Call(SyscallNumber.Exit);
        }
        return new ScriptProgram(Main, () => new ScriptProgram(_ => Compute()));
    }

    public override IReadOnlyList<string> FigureNames => ["round_us", "seconds"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        TimedSection loop = context.State<TimedSection>();
        return [new Metric("round_us", (loop.Ended - loop.Started) / 1000.0 / context.Size, "us per map, touch and unmap"), new Metric("seconds", outcome.SimulatedSeconds, "s")];
    }
}
