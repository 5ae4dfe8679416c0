using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Randomness;
using Sim.Engine.Randomness.Distributions;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Kernel;
using Sim.Models.Platform;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// A web server and its client on the network's peer: the client sends a 200-byte request, the
/// server receives it, does 20,000 instructions of work with 100 random loads in a 256 KiB page
/// cache, and answers with eight full frames (about 11.6 KB). The sizes and work are assumptions
/// standing for static-file serving. By default one closed-loop client sends the next request
/// when it has the whole answer (figure of merit: requests per second). At a request rate
/// (<see cref="AtRate"/>) the client is open-loop: requests arrive as a Poisson process of that
/// rate whatever the answers do, queue in the server's socket, and each one's response time runs
/// from its sending to the arrival of its answer's last frame at the client (figures of merit:
/// requests per second served, and the mean, median and 99th percentile response times).
/// With <see cref="ThreadedProcessWorkload.Threads"/> above one the server is a pool of that many
/// worker threads (NPTL threads of one process) that share the socket: each takes the next
/// request (a LOCK XADD on a shared counter of requests taken, so that together they take the
/// size), waits for it in recvfrom, and answers it; the kernel gives each datagram to the next
/// waiting worker, and the workers run on whichever CPUs the scheduler gives them.
/// </summary>
public sealed class Web : ThreadedProcessWorkload, IOpenLoopWorkload
{
    private const int RequestBytes = 200;
    private const int ResponseFrames = 8;
    private const int FramePayload = 1472; // a full Ethernet frame of UDP payload
    private const ulong Cache = 0x0000_0000_2000_0000;
    private const ulong CacheBytes = 256UL << 10;
    private const ulong TakenCounter = ExecutableImage.DataBase; // the workers' shared count of requests taken, on the first data page

    // The server's resident set is an nginx worker's: 4.4 MB (nginx 1.22.1 on Debian 12 with one
    // worker, VmRSS in /proc/PID/status; docs/calibration). How it splits between the files it maps
    // (the binary and its libraries: libc, libcrypto, libssl, libpcre2, libz), which every process
    // of the image shares through the page cache, and its own anonymous memory is not in the
    // source: 700 and 400 pages are assumed. The hot part (text, data, stack, cache) is what the
    // requests touch; the rest is resident and cold.
    private const ulong ResidentFilePages = 700;     // assumed share of the 4.4 MB
    private const ulong ResidentAnonymousPages = 400; // assumed share of the 4.4 MB
    private const ulong TextPages = 64;
    private const ulong StackPages = 8;
    private const ulong Libraries = 0x0000_7F00_0000_0000; // where ld.so maps them, below the stack

    /// <param name="requestRate">Requests a second of an open-loop client; null for one closed-loop client.</param>
    public Web(double? requestRate = null)
    {
        if (requestRate is { } rate && !(double.IsFinite(rate) && rate > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(requestRate), rate, "A request rate must be a positive number of requests a second.");
        }
        RequestRate = requestRate;
    }

    /// <summary>The open-loop client's mean request rate, per second; null for the closed-loop client.</summary>
    public double? RequestRate { get; }

    public override string Name => "web";

    public override string Description => RequestRate is { } rate
        ? $"a web server under an open-loop client: Poisson arrivals at {rate.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} requests/s, 200-byte requests, ~11.6 KB answers (size = requests; process_threads = worker threads)"
        : "a web server answering a closed-loop client: 200-byte requests, ~11.6 KB answers (size = requests; process_threads = worker threads)";

    public IWorkload AtRate(double requestsPerSecond) => new Web(requestsPerSecond).WithThreads(Threads);

    protected override ThreadedProcessWorkload New() => new Web(RequestRate);

    public IReadOnlyList<double> ResponseMicroseconds(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RequestRate is null ? [] : context.State<RequestClient>().ResponseMicroseconds();
    }

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ulong dataPages = Math.Max(16UL, DataPagesForThreads);
        ulong libraryPages = ResidentFilePages - TextPages;
        ulong heapPages = ResidentAnonymousPages - Math.Min(ResidentAnonymousPages, dataPages + StackPages + (CacheBytes / 4096));
        int libraries = kernel.ImageFile("web/libraries", libraryPages * 4096); // one inode for every container of the image
        return Image(textPages: TextPages, dataPages: dataPages, stackPages: StackPages,
            new MemoryRegion("cache", Cache, CacheBytes / 4096, Writable: true),
            new MemoryRegion("heap", Cache + CacheBytes, heapPages, Writable: true),
            new MemoryRegion("libraries", Libraries, libraryPages, Writable: false, FileId: libraries));
    }

    public override void ConfigurePlatform(IPlatform platform, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(context);
        context.State<RequestClient>().Start(platform, context, Name, $"{platform.Name}.peer.web{context.Port}", RequestBytes, RequestRate, Tick.Zero);
    }

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long requests = context.Size, taken = 0;
        IEnumerable<Op> Worker(ScriptProgram p, int worker)
        {
            RandomStream random = context.Random.For($"workload.web.thread{worker}");
            while (true)
            {
                if (Threads > 1)
                {
                    yield return Op.AtomicAdd(TakenCounter, 1); // the pool's count of requests taken, on a line the workers share
                }
                if (taken == requests)
                {
                    yield break; // every request is taken: the worker ends
                }
                taken++;
                yield return Call(SyscallNumber.Recvfrom);
                p.PendingSecondArgument = (long)p.LastObserved; // the request's id, copied into each frame of its answer
                for (int i = 0; i < 100; i++)
                {
                    yield return Op.Alu(200);
                    yield return Op.Load(Cache + (random.NextBelow(CacheBytes / 8) * 8));
                }
                for (int f = 0; f < ResponseFrames; f++)
                {
                    p.PendingArgument = FramePayload;
                    yield return Call(SyscallNumber.Sendto);
                }
            }
        }
        return ThreadedProgram(Worker);
    }

    public override IReadOnlyList<string> FigureNames => RequestRate is null ? ["requests"] : RequestClient.FigureNames;

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        IReadOnlyList<Metric> figures = context.State<RequestClient>().Figures(context.Size, outcome);
        return RequestRate is null ? [figures[0]] : figures;
    }
}
