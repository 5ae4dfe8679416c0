using System.Globalization;
using Sim.Engine.Randomness;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Kernel;
using Sim.Models.Platform;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// A service of a workload file (<see cref="ServiceSpec"/>) run as <c>web</c> runs: its client on
/// the network's peer (<see cref="RequestClient"/>), its worker threads in one process, each taking
/// the next request with recvfrom and answering it. A request of several packets is reassembled
/// by its id: each packet a recvfrom by whichever worker is free, its arrival counted with a
/// locked add on the request's slot of a table the workers share, and the worker that takes its
/// last packet serves it. A request's work, in order: its user-mode
/// instructions as ALU blocks between its memory references (each reference to the hot part of
/// the working set with the hot share's chance, else to the cold rest, uniformly; a store with the
/// store share's chance); its plain system calls by kind; the files it opens and closes (the
/// service's data file, its path walked); its minor faults (a fresh page mapped, touched and
/// unmapped); its block reads and writes (direct, 4 KiB at random offsets of the disk's first GiB);
/// then its answer's packets, a sendto each. Counts that are fractions are made exactly over the
/// requests: the process keeps what it owes, and the worker that takes a request makes a call when a whole one is due.
/// </summary>
/// <remarks>
/// Model: reads and writes go to the service's own 1 MiB data and log files, in the page cache
/// (each read a page; a worker that reaches a file's end closes and reopens it, an open and a
/// close more every 256 reads or writes); a worker opens the files it needs once, when it starts;
/// with several workers, each takes the next request with a locked add on a shared counter (one
/// instruction more a request). Nothing models what a request's instructions are beyond the ALU
/// blocks and the references: branch behaviour and instruction-cache footprint are the core's
/// defaults for ALU blocks.
/// </remarks>
public sealed class Service : ThreadedProcessWorkload, IOpenLoopWorkload
{
    private const ulong WorkingSet = 0x0000_0000_2000_0000;
    private const ulong Libraries = 0x0000_7F00_0000_0000; // where ld.so maps them, below the stack
    private const ulong MappedData = 0x0000_7E00_0000_0000; // the data file a request's major faults read, mapped below the libraries
    private const ulong StackPages = 8;
    private const ulong FileBytes = 1 << 20;
    private const ulong DiskBytes = 1UL << 30;
    private const ulong TakenCounter = ExecutableImage.DataBase;
    private const ulong Reassembly = TakenCounter + 64; // the packets in of each request being reassembled: a word a slot, by id
    private const ulong ReassemblySlots = 256; // a slot a request in flight (assumed), the table within the data pages

    public Service(ServiceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Problem() is { } problem)
        {
            throw new ArgumentException($"The service {spec.Name} cannot run: {problem}.", nameof(spec));
        }
        Spec = spec;
    }

    public ServiceSpec Spec { get; }

    public override string Name => Spec.Name;

    public override string Description => Spec.Description.Length > 0 ? Spec.Description
        : string.Create(CultureInfo.InvariantCulture, $"a service of a workload file: {Spec.Instructions:G6} instructions, {Spec.SyscallsPerRequest:G4} system calls and {Spec.ResponsePackets} answer packet(s) a request (size = requests; process_threads = worker threads)");

    public IWorkload AtRate(double requestsPerSecond) => new Service(Spec with { RequestRate = requestsPerSecond }).WithThreads(Threads);

    protected override ThreadedProcessWorkload New() => new Service(Spec);

    public IReadOnlyList<double> ResponseMicroseconds(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.State<RequestClient>().ResponseMicroseconds();
    }

    /// <summary>The ids of the service's files in the kernel's file system, made with its image.</summary>
    private sealed class ServiceFiles
    {
        public int Data { get; set; }

        public int Log { get; set; }

        /// <summary>The CGI program's executable, when requests fork (<see cref="ServiceSpec.ForksPerRequest"/>).</summary>
        public int Cgi { get; set; } = -1;
    }

    /// <summary>The CGI program's size: a small C binary's text (assumed) and its data, stack and heap pages.</summary>
    private const ulong CgiTextBytes = 64 * 1024, CgiDataPages = 4, CgiStackPages = 4;

    public override void ConfigureKernel(LinuxKernel kernel, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(context);
        base.ConfigureKernel(kernel, context);
        kernel.CountVoluntarySwitches(); // the figure a planner compares with pidstat -w's (workload check)
        if (Spec.MajorFaults > 0)
        {
            kernel.EnableFileReadFaults();
        }
        if (Spec.ForksPerRequest > 0)
        {
            int text = kernel.ImageFile($"{Name}/cgi", CgiTextBytes);
            context.State<ServiceFiles>().Cgi = kernel.RegisterExecutable(new ExecutableImage($"{Name}-cgi", text, CgiDataPages, HeapPages: 0, CgiStackPages,
                () => new ScriptProgram(_ => [Call(SyscallNumber.Exit)])));
        }
    }

    public override IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(context);
        ulong dataPages = Math.Max(16UL, DataPagesForThreads);
        ulong workingPages = Pages(Spec.WorkingSetBytes);
        ulong libraryPages = Math.Max(1, Pages(Spec.MappedFileBytes) - ServiceSpec.TextPages);
        ulong anonymousPages = Pages(Spec.ResidentBytes - Spec.MappedFileBytes);
        ulong heapPages = Math.Max(1, anonymousPages - Math.Min(anonymousPages, dataPages + StackPages + workingPages));
        ServiceFiles files = context.State<ServiceFiles>();
        files.Data = kernel.ImageFile($"{Name}/data", FileBytes);
        files.Log = kernel.ImageFile($"{Name}/log", FileBytes);
        int libraries = kernel.ImageFile($"{Name}/libraries", libraryPages * 4096); // one inode for every container of the image
        MemoryRegion[] regions =
        [
            new MemoryRegion("working-set", WorkingSet, workingPages, Writable: true),
            new MemoryRegion("heap", WorkingSet + (workingPages * 4096), heapPages, Writable: true),
            new MemoryRegion("libraries", Libraries, libraryPages, Writable: false, FileId: libraries),
        ];
        if (Spec.MajorFaults > 0)
        {
            // On the disk, not cached: a page for each major fault the run takes, and one to spare.
            ulong pages = (ulong)Math.Ceiling(Spec.MajorFaults * context.Size) + 1;
            int data = kernel.Files.Create($"{Name}/mapped-data-{context.Port}", pages * 4096);
            regions = [.. regions, new MemoryRegion("mapped-data", MappedData, pages, Writable: false, Populated: false, FileId: data)];
        }
        return Image(textPages: ServiceSpec.TextPages, dataPages: dataPages, stackPages: StackPages, regions);
    }

    private static ulong Pages(long bytes) => (ulong)((bytes + 4095) / 4096);

    public override void ConfigurePlatform(IPlatform platform, WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(context);
        RequestClient client = context.State<RequestClient>();
        client.ResponseFrames = Spec.ResponsePackets;
        client.RequestFrames = Spec.RequestPackets;
        client.Start(platform, context, Name, $"{platform.Name}.peer.{Name}{context.Port}", Spec.RequestBytes, Spec.RequestRate,
            new Tick((ulong)Math.Round(Spec.ThinkTimeMicroseconds * 1e6)),
            Spec.RequestRate is null && Spec.ArrivalGapsMicroseconds is { } gaps ? [.. gaps.Select(g => new Tick((ulong)Math.Round(g * 1e6)))] : null);
    }

    /// <summary>What a worker owes of a count a request makes as a fraction: a whole one is made when it is due.</summary>
    private sealed class Owed(double perRequest)
    {
        private double _owed;

        public int Take()
        {
            _owed += perRequest;
            int whole = (int)Math.Floor(_owed + 1e-9);
            _owed -= whole;
            return whole;
        }
    }

    public override IProgram CreateProgram(WorkloadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        long taken = 0; // the request packets the workers have set out to take
        ServiceSpec s = Spec;
        RequestClient client = context.State<RequestClient>();
        // Every packet the NIC takes is taken by a worker, then the workers end: the run's requests
        // in all their packets, and those of requests that lost another packet on the way.
        long ToTake() => (context.Size * s.RequestPackets) + client.StrayFrames;
        var packetsIn = new Dictionary<long, int>(); // the packets in so far of each request not yet whole
        ServiceFiles files = context.State<ServiceFiles>();
        ulong hotSlots = (ulong)s.HotBytes / 8, coldSlots = (ulong)(s.WorkingSetBytes - s.HotBytes) / 8;
        string[] plain = [.. ServiceSpec.PlainSyscalls.Where(k => s.Syscalls.GetValueOrDefault(k) > 0)];
        // What the process owes, shared by its workers: over the requests taken, in the order they are taken, the counts come out whole.
        var references = new Owed(s.MemoryReferences);
        var alu = new Owed(s.Instructions - s.MemoryReferences - s.SyscallsPerRequest);
        Owed[] calls = [.. plain.Select(k => new Owed(s.Syscalls[k]))];
        Owed opens = new(s.FilesOpened), faults = new(s.MinorFaults), reads = new(s.BlockReads), writes = new(s.BlockWrites), forks = new(s.ForksPerRequest), majors = new(s.MajorFaults);
        ulong mappedPages = 0; // the mapped data file's pages touched so far, in order, by every worker
        IEnumerable<Op> Worker(ScriptProgram p, int worker)
        {
            RandomStream random = context.Random.For($"workload.{Name}.thread{worker}");
            var fds = new Dictionary<int, (long Fd, int Used)>();
            IEnumerable<Op> OnFile(int file, SyscallNumber call)
            {
                if (!fds.TryGetValue(file, out var open) || open.Used == (int)(FileBytes / 4096))
                {
                    if (fds.ContainsKey(file))
                    {
                        p.PendingArgument = open.Fd;
                        yield return Call(SyscallNumber.Close); // at the file's end: reopened at its start
                    }
                    p.PendingArgument = file;
                    yield return Call(SyscallNumber.Open);
                    open = (p.LastResult, 0);
                }
                fds[file] = (open.Fd, open.Used + 1);
                p.PendingArgument = open.Fd;
                p.PendingCount = 4096;
                yield return Call(call);
            }
            while (true)
            {
                if (Threads > 1)
                {
                    yield return Op.AtomicAdd(TakenCounter, 1); // the pool's count of requests taken, on a line the workers share
                }
                if (taken == ToTake())
                {
                    yield break; // every request is taken: the worker ends
                }
                taken++;
                yield return Call(SyscallNumber.Recvfrom);
                long id = (long)p.LastObserved; // the request's id, copied into each packet of its answer
                if (s.RequestPackets > 1)
                {
                    yield return Op.AtomicAdd(Reassembly + ((ulong)id % ReassemblySlots * 8), 1);
                    int arrived = packetsIn.GetValueOrDefault(id) + 1;
                    if (arrived < s.RequestPackets)
                    {
                        packetsIn[id] = arrived;
                        continue; // not whole yet: the next packet
                    }
                    packetsIn.Remove(id);
                }
                int refs = references.Take(), work = alu.Take();
                int[] due = [.. calls.Select(c => c.Take())];
                int opened = opens.Take(), faulted = faults.Take(), read = reads.Take(), written = writes.Take(), forked = forks.Take(), major = majors.Take();
                for (int n = major; n > 0; n--)
                {
                    yield return Op.Load(MappedData + (mappedPages++ * 4096)); // a page of the mapped file not yet read: a major fault
                }
                for (int n = forked; n > 0; n--)
                {
                    yield return Call(SyscallNumber.Fork); // the child executes the CGI program
                    yield return Call(SyscallNumber.Wait4);
                }
                for (int r = 0; r < refs; r++)
                {
                    int chunk = (work / (refs + 1)) + (r < work % (refs + 1) ? 1 : 0);
                    if (chunk > 0)
                    {
                        yield return Op.Alu(chunk);
                    }
                    bool hot = coldSlots == 0 || random.NextDouble() < s.HotShare;
                    ulong address = WorkingSet + ((hot ? random.NextBelow(hotSlots) : hotSlots + random.NextBelow(coldSlots)) * 8);
                    yield return random.NextDouble() < s.StoreShare ? Op.Store(address) : Op.Load(address);
                }
                int last = work / (refs + 1);
                if (last > 0)
                {
                    yield return Op.Alu(last);
                }
                for (int k = 0; k < plain.Length; k++)
                {
                    for (int n = due[k]; n > 0; n--)
                    {
                        IEnumerable<Op> call = plain[k] switch
                        {
                            "getpid" => [Call(SyscallNumber.Getpid)],
                            "clock_gettime" => [Call(SyscallNumber.ClockGettime)],
                            "sched_yield" => [Call(SyscallNumber.SchedYield)],
                            "stat" => Stat(p, files.Data),
                            "read" => OnFile(files.Data, SyscallNumber.Read),
                            "write" => OnFile(files.Log, SyscallNumber.Write),
                            _ => Sleep(p, s.SleepNanoseconds),
                        };
                        foreach (Op op in call)
                        {
                            yield return op;
                        }
                    }
                }
                for (int n = opened; n > 0; n--)
                {
                    p.PendingArgument = files.Data;
                    yield return Call(SyscallNumber.Open);
                    p.PendingArgument = p.LastResult;
                    yield return Call(SyscallNumber.Close);
                }
                for (int n = faulted; n > 0; n--)
                {
                    p.PendingArgument = 1;
                    yield return Call(SyscallNumber.Mmap);
                    ulong page = (ulong)p.LastResult;
                    yield return Op.Store(page); // the first touch: a demand-zero fault
                    p.PendingArgument = (long)page;
                    yield return Call(SyscallNumber.Munmap);
                }
                for (int n = read; n > 0; n--)
                {
                    p.PendingArgument = (long)(random.NextBelow(DiskBytes / 4096) * 4096);
                    yield return Call(SyscallNumber.Pread64);
                }
                for (int n = written; n > 0; n--)
                {
                    p.PendingArgument = (long)(random.NextBelow(DiskBytes / 4096) * 4096);
                    yield return Call(SyscallNumber.Pwrite64);
                }
                for (int f = 0; f < s.ResponsePackets; f++)
                {
                    p.PendingArgument = s.ResponseBytes;
                    p.PendingSecondArgument = id;
                    yield return Call(SyscallNumber.Sendto);
                }
            }
        }
        int cgi = files.Cgi;
        return ThreadedProgram(Worker, cgi < 0 ? null : () => new ScriptProgram(c => Exec(c, cgi)));
    }


    private static IEnumerable<Op> Stat(ScriptProgram p, int file)
    {
        p.PendingArgument = file;
        yield return Call(SyscallNumber.Stat);
    }

    private static IEnumerable<Op> Sleep(ScriptProgram p, ulong nanoseconds)
    {
        p.PendingArgument = (long)nanoseconds;
        yield return Call(SyscallNumber.Nanosleep);
    }

    public override IReadOnlyList<string> FigureNames => RequestClient.FigureNames;

    public override IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.State<RequestClient>().Figures(context.Size, outcome);
    }
}
