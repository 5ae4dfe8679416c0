namespace Sim.Workloads.Processes;

/// <summary>
/// A request-serving service as a planner measured it on a real server (a workload file,
/// docs/planning.md): per request, its user-mode instructions, its memory references with their
/// locality (a hot part of the working set and the cold rest), its system calls by kind, the
/// files it opens, its minor page faults, the packets it receives and sends, its block reads and
/// writes; the process's worker threads; the clients' arrivals; and its resident memory with the
/// files it maps. Counts per request may be fractions (0.2 block reads a request is one every fifth
/// request); <see cref="Service"/> runs it on the Linux-like kernel. A figure the file leaves out
/// takes the built-in <c>web</c>'s assumption: a 256 KiB working set, all of it hot; 200-byte
/// requests; an nginx worker's 4.4 MB resident set with 700 pages of it mapped files (web's
/// assumed split; calibration.md).
/// </summary>
public sealed record ServiceSpec
{
    /// <summary>The system calls a file may count by kind beside those its other figures imply (recvfrom and sendto for the packets, open and close for the files, mmap and munmap for the faults, pread64 and pwrite64 for the block I/O).</summary>
    public static readonly string[] PlainSyscalls = ["getpid", "clock_gettime", "sched_yield", "stat", "read", "write", "nanosleep"];

    /// <summary>The largest payload of one UDP datagram in one Ethernet frame.</summary>
    public const int MostPacketBytes = 1472;

    /// <summary>The size of every block I/O the kernel model makes (its requests are one page, 8 sectors).</summary>
    public const int BlockBytes = 4096;

    public required string Name { get; init; }

    public string Description { get; init; } = "";

    /// <summary>User-mode instructions a request, the system-call instructions among them (perf stat -e instructions:u over the requests).</summary>
    public double Instructions { get; init; }

    /// <summary>Loads and stores a request makes to its working set.</summary>
    public double MemoryReferences { get; init; }

    /// <summary>The share of <see cref="MemoryReferences"/> that are stores.</summary>
    public double StoreShare { get; init; }

    /// <summary>The memory the requests touch, in bytes (part of the resident memory).</summary>
    public long WorkingSetBytes { get; init; } = 256 << 10;

    /// <summary>The hot part of the working set, in bytes, at its start.</summary>
    public long HotBytes { get; init; } = 256 << 10;

    /// <summary>The share of the references that go to the hot part; the rest go to the cold rest, uniformly.</summary>
    public double HotShare { get; init; } = 1;

    /// <summary>Plain system calls a request makes, by kind (<see cref="PlainSyscalls"/>).</summary>
    public IReadOnlyDictionary<string, double> Syscalls { get; init; } = new Dictionary<string, double>();

    /// <summary>How long each nanosleep of <see cref="Syscalls"/> asks to sleep, in nanoseconds.</summary>
    public ulong SleepNanoseconds { get; init; } = 10_000; // assumed: a short sleep that blocks the thread, as usleep(10) does

    /// <summary>Voluntary context switches a request made on the real server, if the file gives them: compared by <c>virtsim workload check</c> with the kernel's count of them (Linux's nvcsw), not imposed: the model's switches come from its own blocking (a worker waiting for the next request, a block I/O, a major fault, a sleep, a child).</summary>
    public double? ContextSwitches { get; init; }

    /// <summary>Files a request opens and closes (an open and a close each, with the path walk).</summary>
    public double FilesOpened { get; init; }

    /// <summary>Minor page faults a request takes: each a fresh anonymous page mapped, first touched, and unmapped (an mmap, a demand-zero fault and a munmap).</summary>
    public double MinorFaults { get; init; }

    /// <summary>The packets of a request, each a datagram the client sends back to back and a worker takes with a recvfrom.</summary>
    public int RequestPackets { get; init; } = 1;

    /// <summary>Each request packet's payload in bytes.</summary>
    public int RequestBytes { get; init; } = 200;

    /// <summary>The packets of an answer, each a sendto.</summary>
    public int ResponsePackets { get; init; } = 1;

    /// <summary>Each answer packet's payload in bytes.</summary>
    public int ResponseBytes { get; init; } = MostPacketBytes;

    /// <summary>Block reads a request makes (pread64 of <see cref="BlockBytes"/> at a random offset of the disk's first GiB, direct).</summary>
    public double BlockReads { get; init; }

    /// <summary>Block writes a request makes (pwrite64 of <see cref="BlockBytes"/>, direct).</summary>
    public double BlockWrites { get; init; }

    /// <summary>The open-loop clients' mean request rate a second (Poisson arrivals); null for one closed-loop client.</summary>
    public double? RequestRate { get; init; }

    /// <summary>
    /// An open-loop client replaying a trace: the gaps between its arrivals in microseconds, in
    /// order, from the first gap again once they are used up; null for Poisson arrivals at
    /// <see cref="RequestRate"/> or one closed-loop client. A rate given with it (a scenario's
    /// <c>request_rate</c>) replaces it.
    /// </summary>
    public IReadOnlyList<double>? ArrivalGapsMicroseconds { get; init; }

    /// <summary>
    /// Major faults a request takes: each touches the next page of a file the service maps that is
    /// not in the page cache (a data file read by mmap, as a database or a search index is), so
    /// the kernel reads the page from the disk while the worker waits. The pages so read stay
    /// cached: the file is as large as the run's faults.
    /// </summary>
    public double MajorFaults { get; init; }

    /// <summary>
    /// Children a request forks, as a CGI server does: the worker forks, the child executes the
    /// service's CGI program (a small binary of its own, which exits at once: the request's work
    /// stays with the worker) and the worker waits for it; fork, execve, exit_group and wait4 each.
    /// </summary>
    public double ForksPerRequest { get; init; }

    /// <summary>The closed-loop client's think time between an answer and its next request, in microseconds.</summary>
    public double ThinkTimeMicroseconds { get; init; }

    /// <summary>The process's resident memory in bytes (VmRSS), the files it maps among it.</summary>
    public long ResidentBytes { get; init; } = 1100 * 4096; // web's: an nginx worker's 4.4 MB (calibration.md)

    /// <summary>The part of <see cref="ResidentBytes"/> that is files the process maps (its binary and libraries: RssFile), shared through the page cache by every process of the image.</summary>
    public long MappedFileBytes { get; init; } = 700 * 4096; // web's assumed share of it

    /// <summary>The most major faults a request may take (each a 4 KiB read from the disk).</summary>
    public const int MostMajorFaults = 64;

    /// <summary>
    /// The most packets a request may have: a quarter of the e1000's and the 82599's 256-entry
    /// receive rings as the kernel model fills them, so that one request sent back to back does
    /// not by itself overrun the ring.
    /// </summary>
    public const int MostRequestPackets = 64;

    /// <summary>The most packets an answer may have (an input bound: 1.5 MB in 1,472-byte datagrams).</summary>
    public const int MostResponsePackets = 1024;

    /// <summary>The most children a request may fork.</summary>
    public const int MostForks = 16;

    /// <summary>The pages of the program text, part of the mapped files.</summary>
    public const ulong TextPages = 64;

    /// <summary>The system calls a request makes on average, all kinds.</summary>
    public double SyscallsPerRequest => RequestPackets + ResponsePackets + Syscalls.Values.Sum() + (2 * FilesOpened) + (2 * MinorFaults) + BlockReads + BlockWrites + (4 * ForksPerRequest);

    /// <summary>Why the model cannot run this service, or null: each problem names the figure.</summary>
    public string? Problem()
    {
        string? Negative(string what, double value) => double.IsFinite(value) && value >= 0 ? null : $"{what} must be a number at least 0, not {value}";
        return Negative("instructions", Instructions) ?? Negative("memory references", MemoryReferences) ?? Negative("files opened", FilesOpened)
            ?? Negative("minor faults", MinorFaults) ?? Negative("block reads", BlockReads) ?? Negative("block writes", BlockWrites)
            ?? Negative("think time", ThinkTimeMicroseconds) ?? Negative("forks", ForksPerRequest) ?? Negative("major faults", MajorFaults)
            ?? (MajorFaults <= MostMajorFaults ? null : $"a request takes at most {MostMajorFaults} major faults, not {MajorFaults}")
            ?? (ForksPerRequest <= MostForks ? null : $"a request forks at most {MostForks} children, not {ForksPerRequest}")
            ?? Syscalls.Select(kv => PlainSyscalls.Contains(kv.Key) ? Negative($"system calls '{kv.Key}'", kv.Value) : $"'{kv.Key}' is not a system call the model makes from a workload file; it makes {string.Join(", ", PlainSyscalls)}").FirstOrDefault(p => p is not null)
            ?? (StoreShare is >= 0 and <= 1 ? null : "the store share must be from 0 to 1")
            ?? (HotShare is >= 0 and <= 1 ? null : "the hot share must be from 0 to 1")
            ?? (WorkingSetBytes >= 4096 ? null : "the working set must be at least a page, 4 KiB")
            ?? (HotBytes >= 4096 && HotBytes <= WorkingSetBytes ? null : $"the hot part ({HotBytes} bytes) must be at least a page and at most the working set ({WorkingSetBytes} bytes)")
            ?? (HotShare < 1 && HotBytes == WorkingSetBytes ? "a hot share below 1 needs a cold part: make the hot part smaller than the working set" : null)
            ?? (ResidentBytes >= WorkingSetBytes + MappedFileBytes ? null : $"the resident memory ({ResidentBytes} bytes) must hold the working set ({WorkingSetBytes}) and the mapped files ({MappedFileBytes})")
            ?? (MappedFileBytes >= (long)TextPages * 4096 ? null : $"the mapped files must hold the program's text, at least {TextPages * 4096} bytes")
            ?? (RequestBytes is >= 1 and <= MostPacketBytes ? null : $"a request packet carries 1 to {MostPacketBytes} bytes, not {RequestBytes}")
            ?? (RequestPackets is >= 1 and <= MostRequestPackets ? null : $"a request is 1 to {MostRequestPackets} packets, not {RequestPackets}")
            ?? (ResponseBytes is >= 1 and <= MostPacketBytes ? null : $"an answer packet carries 1 to {MostPacketBytes} bytes, not {ResponseBytes}")
            ?? (ResponsePackets is >= 1 and <= MostResponsePackets ? null : $"an answer is 1 to {MostResponsePackets} packets, not {ResponsePackets}")
            ?? (RequestRate is null or (> 0 and < 1e9) ? null : "the request rate must be a positive number of requests a second")
            ?? (ArrivalGapsMicroseconds is null || (ArrivalGapsMicroseconds.Count > 0 && ArrivalGapsMicroseconds.All(g => double.IsFinite(g) && g >= 0) && ArrivalGapsMicroseconds.Sum() > 0) ? null
                : "an arrival trace needs at least two arrivals, in order, not all at one time")
            ?? (Instructions >= MemoryReferences + SyscallsPerRequest ? null
                : $"{Instructions:G6} instructions a request cannot make its {MemoryReferences:G6} memory references and {SyscallsPerRequest:G6} system calls (each is an instruction); the instructions are user mode's, all of them");
    }
}
