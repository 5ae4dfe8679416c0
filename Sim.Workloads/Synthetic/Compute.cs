using Sim.Engine.Randomness;
using Sim.Models.Cpu;

namespace Sim.Workloads.Synthetic;

/// <summary>
/// A SPECint-like instruction mix, <c>Size</c> basic blocks: each block is a few ALU
/// instructions, a load (and every third block a store) within a 256 KiB working set, a branch,
/// and now and then a multiply, a divide or a call. The mix is a modelling assumption in the
/// spirit of integer benchmarks (about one memory operation in three instructions, one branch in
/// six); figures of merit: instructions per cycle and millions of instructions per second.
/// </summary>
public sealed class Compute : IDataWorkload
{
    public const ulong WorkingSetBytes = 256UL << 10;

    public string Name => "compute";

    public string Description => "a SPECint-like mix of ALU, branch, multiply, divide, call and memory operations in a 256 KiB working set (size = basic blocks)";

    public int Cpl => 3;

    public ulong DataBytes(long size) => WorkingSetBytes;

    public void Prepare(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.MapData(WorkloadContext.DataBase, DataBytes(context.Size));
    }

    public IOpStream CreateStream(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RandomStream random = context.Random.For("workload.compute.thread0");
        return new GeneratedStream(context.Size, OpsPerBlock, (block, step) => MixOp(random, WorkloadContext.DataBase, block, step));
    }

    /// <summary>Operations in one basic block of the mix.</summary>
    public const int OpsPerBlock = 5;

    /// <summary>
    /// Operation <paramref name="step"/> (0 to <see cref="OpsPerBlock"/> - 1) of basic block
    /// <paramref name="block"/> of the mix, its memory operations within the
    /// <see cref="WorkingSetBytes"/> from <paramref name="dataBase"/>: the same mix for any program
    /// that does integer work (the compiler of <c>kernel-build</c> runs it too).
    /// </summary>
    public static Op MixOp(RandomStream random, ulong dataBase, long block, int step)
    {
        ArgumentNullException.ThrowIfNull(random);
        return step switch
        {
            0 => Op.Alu(3 + (int)random.NextBelow(4)),
            1 => Op.Load(dataBase + (random.NextBelow(WorkingSetBytes / 8) * 8)),
            2 => block % 3 == 0 ? Op.Store(dataBase + (random.NextBelow(WorkingSetBytes / 8) * 8)) : Op.Alu(1),
            3 => (block % 50) switch { 0 => Op.Divide(1), 7 or 23 => Op.Multiply(1), 11 => Op.CallReturn(1), _ => Op.Alu(1) },
            _ => Op.Branch(1),
        };
    }

    public IReadOnlyList<string> FigureNames => ["ipc", "mips"];

    public IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return
        [
            new Metric("ipc", (double)outcome.Instructions / outcome.CoreCycles, "instructions/cycle"),
            new Metric("mips", outcome.PerSecond(outcome.Instructions) / 1e6, "M instructions/s"),
        ];
    }
}
