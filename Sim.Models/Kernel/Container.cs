using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// One container of the shared kernel: its configuration (namespace depth, cgroup depth, memory
/// limit), the memory its memory cgroup has charged, the processes alive in it, and where the
/// core stood when the last of them exited (the end of the container's workload).
/// </summary>
public sealed class Container
{
    internal Container(int index, ContainerConfiguration configuration, ulong allowedCpus) => (Index, Configuration, AllowedCpus) = (index, configuration, allowedCpus);

    /// <summary>The CPUs its processes may run on (bit n for CPU n): its cpuset.</summary>
    public ulong AllowedCpus { get; }

    /// <summary>The container's number on its kernel, in order of creation.</summary>
    public int Index { get; }

    public ContainerConfiguration Configuration { get; }

    /// <summary>Behind NAT: the physical address of its flow's conntrack entry (a line of struct nf_conn), made with the container; 0 otherwise.</summary>
    public ulong ConntrackEntry { get; init; }

    /// <summary>Its CPU cgroup's weight (cpu.shares).</summary>
    public int Shares => Configuration.SharesOf(Index);

    /// <summary>The memory the container's pages take, as its memory cgroup counts it: its processes' pages and the page cache charged to it.</summary>
    public ulong ChargedBytes { get; private set; }

    /// <summary>The part of <see cref="ChargedBytes"/> that is page cache its processes brought in (memory.stat's cache).</summary>
    public ulong CacheBytes { get; private set; }

    /// <summary>The most memory the container's pages took at once (memory.max_usage_in_bytes): its footprint on the host.</summary>
    public ulong PeakChargedBytes { get; private set; }

    /// <summary>The most page cache charged to it at once.</summary>
    public ulong PeakCacheBytes { get; private set; }

    /// <summary>Its memory cgroup's file LRU lists: the page cache charged to it, which reclaim takes back when the cgroup reaches its limit.</summary>
    public FileLru Lru { get; } = new();

    /// <summary>Its memory cgroup's anonymous LRU lists, kept when the kernel has swap: its processes' pages, which reclaim sends to swap when the container may swap.</summary>
    public AnonymousLru AnonymousLru { get; } = new();

    /// <summary>Faults of its processes that waited for a page to be read from swap.</summary>
    public long MajorFaults { get; internal set; }

    /// <summary>Its pages being written to swap: still charged until their writes end.</summary>
    internal int Writeback { get; set; }

    /// <summary><paramref name="pages"/> pages charged to the container's memory cgroup (512 for a huge page): page cache if <paramref name="cache"/>, otherwise a process's.</summary>
    internal void Charge(bool cache, int pages = 1)
    {
        ulong bytes = (ulong)pages * Memory.PhysicalMemory.FrameBytes;
        ChargedBytes += bytes;
        PeakChargedBytes = Math.Max(PeakChargedBytes, ChargedBytes);
        if (cache)
        {
            CacheBytes += bytes;
            PeakCacheBytes = Math.Max(PeakCacheBytes, CacheBytes);
        }
    }

    /// <summary><paramref name="pages"/> pages freed (or a charge given back) and uncharged.</summary>
    internal void Uncharge(bool cache, int pages = 1)
    {
        ulong bytes = (ulong)pages * Memory.PhysicalMemory.FrameBytes;
        ChargedBytes -= bytes;
        if (cache)
        {
            CacheBytes -= bytes;
        }
    }

    /// <summary>Processes created in the container and not yet exited.</summary>
    public int LiveProcesses { get; internal set; }

    /// <summary>Where the core stood when the container's last process exited (the exit path itself not included); null while one lives.</summary>
    public CoreMark? Ended { get; internal set; }

    /// <summary>A page would take the container over its limit: the process that asked is to be OOM-killed.</summary>
    internal bool OutOfMemory { get; set; }

    /// <summary>CPU time its processes used in the current bandwidth period, in microseconds (tick-sampled).</summary>
    internal ulong UsedMicroseconds { get; set; }

    /// <summary>Over its CPU quota for the rest of the period: its runnable processes wait in <see cref="Throttled"/>.</summary>
    internal bool IsThrottled { get; set; }

    /// <summary>Its runnable processes held off the run queue while it is throttled.</summary>
    internal Queue<Process> Throttled { get; } = new();
}
