using Sim.Engine.Randomness;
using Sim.Models.Cpu;

namespace Sim.Workloads.Synthetic;

/// <summary>
/// The RandomAccess (GUPS) kernel of the HPC Challenge suite: read-modify-write of random 8-byte
/// words of a large table (64 MiB here), <c>Size</c> updates. TLB-hostile by design: with 4 KiB
/// pages nearly every update misses every TLB. Figure of merit: giga-updates per second.
/// </summary>
public sealed class Gups : IDataWorkload
{
    public const ulong TableBytes = 64UL << 20;

    public string Name => "gups";

    public string Description => "random read-modify-write of 8-byte words in a 64 MiB table (size = updates)";

    public int Cpl => 3;

    public ulong DataBytes(long size) => TableBytes;

    public void Prepare(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.MapData(WorkloadContext.DataBase, DataBytes(context.Size));
    }

    public IOpStream CreateStream(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RandomStream random = context.Random.For("workload.gups.thread0");
        ulong address = 0;
        return new GeneratedStream(context.Size, 4, (_, step) =>
        {
            if (step == 0)
            {
                address = WorkloadContext.DataBase + (random.NextBelow(TableBytes / 8) * 8);
                return Op.Load(address);
            }
            return step switch
            {
                1 => Op.Alu(3), // the xor with the random value and the generator's next step
                2 => Op.Store(address),
                _ => Op.Branch(1),
            };
        });
    }

    public IReadOnlyList<string> FigureNames => ["gups"];

    public IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return [new Metric("gups", outcome.PerSecond(context.Size) / 1e9, "GUP/s")];
    }
}
