using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// STREAM's triad run by <see cref="ThreadedProcessWorkload.Threads"/> threads, as the OpenMP
/// build of McCalpin's STREAM runs it: each thread does a[i] = b[i] + q * c[i] over its own
/// contiguous slice of the three arrays (<c>Size</c> 8-byte elements each), two loads, a
/// multiply and an add, and one store per element. First, untimed, each thread initializes its
/// own slices (a[j] = 1, b[j] = 2, c[j] = 0, STREAM's parallel initialization loop), so the
/// kernel places each thread's pages on its own CPU's node by first touch. What it shows: the
/// threads of one socket share its memory controller, so bandwidth stops growing once they fill
/// it; threads on the other socket bring that socket's controller. Figure of merit: bandwidth
/// over all threads, counting 24 bytes per element as STREAM does, over the triad as the main
/// thread times it between two team barriers (STREAM times each kernel so, around its parallel
/// loop).
/// </summary>
public sealed class StreamThreads : ThreadedProcessWorkload
{
    private const ulong Arrays = ExecutableImage.HeapBase;

    public override string Name => "stream-threads";

    public override string Description => "STREAM triad split over threads, each over its own slice of the arrays (size = elements per thread; process_threads = threads)";

    protected override ThreadedProcessWorkload New() => new StreamThreads();

    /// <summary>The bytes of one array: every thread's slice.</summary>
    private ulong ArrayBytes(long size) => (((ulong)size * (ulong)Threads * 8) + 4095) & ~4095UL;

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        IReadOnlyList<MemoryRegion> image = base.CreateImage(kernel, context);
        return [.. image.SkipLast(1), new MemoryRegion("arrays", Arrays, 3 * ArrayBytes(context.Size) / 4096, Writable: true, Populated: false), image[^1]];
    }

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long size = context.Size;
        ulong bytes = ArrayBytes(size);
        IEnumerable<Op> Triad(int thread)
        {
            ulong first = (ulong)(thread * size) * 8;
            for (long i = 0; i < size; i++)
            {
                ulong offset = first + ((ulong)i * 8);
                yield return Op.Load(Arrays + bytes + offset);
                yield return Op.Load(Arrays + (2 * bytes) + offset);
                yield return Op.Multiply(1);
                yield return Op.Alu(2); // the add and the index increment
                yield return Op.Store(Arrays + offset);
                yield return Op.Branch(1);
            }
        }
        IEnumerable<Op> Initialize(int thread)
        {
            ulong first = (ulong)(thread * size) * 8;
            for (long i = 0; i < size; i++)
            {
                ulong offset = first + ((ulong)i * 8);
                yield return Op.Store(Arrays + offset);
                yield return Op.Store(Arrays + bytes + offset);
                yield return Op.Store(Arrays + (2 * bytes) + offset);
                yield return Op.Alu(1); // the index increment
                yield return Op.Branch(1);
            }
        }
        return TimedThreadedProgram(context, (_, thread) => Initialize(thread), (_, thread) => Triad(thread)); // thread k takes the k-th slice
    }

    public override IReadOnlyList<string> FigureNames => ["bandwidth"];

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        return [new Metric("bandwidth", 24.0 * context.Size * Threads / context.State<TimedSection>().Seconds / 1e6, "MB/s")];
    }
}
