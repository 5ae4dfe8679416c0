using Sim.Models.Cpu;

namespace Sim.Workloads.Synthetic;

/// <summary>
/// The triad kernel of McCalpin's STREAM benchmark, a[i] = b[i] + q * c[i], over arrays of
/// <c>Size</c> 8-byte elements: two loads, a multiply and an add, one store per element. Figure
/// of merit: bandwidth, counting 24 bytes per element as STREAM does.
/// </summary>
/// <remarks>
/// Model: the core is in-order and has no prefetcher, so each miss stalls for its full latency;
/// the bandwidth reported is what that machine model sustains, well below a real out-of-order
/// core with hardware prefetch (see docs/machine.md).
/// </remarks>
public sealed class StreamTriad : IDataWorkload
{
    public string Name => "stream";

    public string Description => "STREAM triad over three arrays: a[i] = b[i] + q * c[i] (size = elements per array)";

    public int Cpl => 3;

    public ulong DataBytes(long size) => 3 * ArrayBytes(size);

    public void Prepare(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.MapData(WorkloadContext.DataBase, DataBytes(context.Size));
    }

    public IOpStream CreateStream(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ulong bytes = ArrayBytes(context.Size);
        ulong a = WorkloadContext.DataBase, b = a + bytes, c = b + bytes;
        return new GeneratedStream(context.Size, 6, (i, step) => step switch
        {
            0 => Op.Load(b + ((ulong)i * 8)),
            1 => Op.Load(c + ((ulong)i * 8)),
            2 => Op.Multiply(1),
            3 => Op.Alu(2), // the add and the index increment
            4 => Op.Store(a + ((ulong)i * 8)),
            _ => Op.Branch(1),
        });
    }

    public IReadOnlyList<string> FigureNames => ["bandwidth"];

    public IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return [new Metric("bandwidth", outcome.PerSecond(24.0 * context.Size) / 1e6, "MB/s")];
    }

    // Saturates at 2^59 bytes, past any machine's memory, so that an absurd size is refused for its footprint rather than wrapping round to a small one.
    private static ulong ArrayBytes(long size) => ((Math.Min((ulong)size, 1UL << 56) * 8) + 4095) & ~4095UL;
}
