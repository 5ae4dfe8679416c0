using Sim.Engine.Randomness;
using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// An OLTP-like transaction mix: per transaction, query work over a 1 MiB buffer pool (2,000
/// instructions, 50 random loads, 10 stores), two 4 KiB random reads and one 4 KiB random write
/// to the disk, one at a time. The mix is an assumption in the spirit of small-transaction
/// database work; figure of merit: transactions per second. With concurrent clients
/// (<c>process_threads</c>), the server runs a thread per client connection, as a thread-per-
/// connection database does, each doing its share of the transactions over the one buffer pool,
/// so that several of them wait on the disk at once (the pool's own locking is not modelled).
/// </summary>
public sealed class Oltp : ThreadedProcessWorkload
{
    private const ulong Pool = 0x0000_0000_1000_0000;
    private const ulong PoolBytes = 1UL << 20;
    private const ulong DataBytes = 1UL << 30;

    public override string Name => "oltp";

    public override string Description => "transactions of query work on a 1 MiB buffer pool, two 4 KiB random reads and one write (size = transactions; process_threads = concurrent clients)";

    protected override ThreadedProcessWorkload New() => new Oltp();

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context) =>
        Image(textPages: 64, dataPages: Math.Max(16UL, DataPagesForThreads), stackPages: 8, new MemoryRegion("pool", Pool, PoolBytes / 4096, Writable: true));

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        IEnumerable<Op> Client(ScriptProgram p, int client)
        {
            RandomStream random = context.Random.For($"workload.oltp.thread{client}");
            long transactions = (context.Size / Threads) + (client < context.Size % Threads ? 1 : 0);
            for (long t = 0; t < transactions; t++)
            {
                for (int i = 0; i < 50; i++)
                {
                    yield return Op.Alu(40);
                    yield return Op.Load(Pool + (random.NextBelow(PoolBytes / 8) * 8));
                    if (i % 5 == 0)
                    {
                        yield return Op.Store(Pool + (random.NextBelow(PoolBytes / 8) * 8));
                    }
                }
                for (int read = 0; read < 2; read++)
                {
                    p.PendingArgument = (long)(random.NextBelow(DataBytes / 4096) * 4096);
                    yield return Call(SyscallNumber.Pread64);
                }
                p.PendingArgument = (long)(random.NextBelow(DataBytes / 4096) * 4096);
                yield return Call(SyscallNumber.Pwrite64);
            }
        }
        return ThreadedProgram(Client); // thread k serves client k
    }

    public override IReadOnlyList<string> FigureNames => ["transactions"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return [new Metric("transactions", outcome.PerSecond(context.Size), "transactions/s")];
    }
}
