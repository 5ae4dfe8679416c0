using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The futex hash table (futex_queues in kernel/futex.c): the keys of the words tasks sleep on
/// hash into buckets, each a cache line of kernel memory with its spinlock and its chain of
/// sleepers in the order they queued. The key is the address space and the address, as
/// get_futex_key makes it for private anonymous memory. Sized as futex_init sizes it since Linux
/// 3.13, 256 buckets for each CPU rounded up to a power of two, and laid out at the first futex
/// call, so that kernels that make none keep their memory as it was.
/// </summary>
internal sealed class FutexHashTable
{
    private const int BucketsPerCpu = 256;

    private readonly PhysicalMemory _memory;
    private ulong _table;                        // physical address of the table, a line per bucket
    private List<Waiter>?[] _chains = [];        // per bucket, its sleepers in the order they queued

    public FutexHashTable(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
    }

    public bool LaidOut => _chains.Length > 0;

    /// <summary>The table for a kernel of <paramref name="cpus"/> CPUs, in never-used memory.</summary>
    public void LayOut(int cpus)
    {
        int buckets = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(BucketsPerCpu * cpus));
        _table = _memory.AllocateContiguous((ulong)buckets * KernelObjects.LineBytes);
        _chains = new List<Waiter>?[buckets];
    }

    /// <summary>The bucket of the word at <paramref name="address"/> of <paramref name="mm"/>: a 64-bit mix standing for jhash2.</summary>
    public int BucketOf(MemoryDescriptor mm, ulong address) => (int)(Mix(mm.Space.Pml4 ^ Mix(address)) & (ulong)(_chains.Length - 1));

    /// <summary>The physical address of <paramref name="bucket"/>'s line (its lock and chain head).</summary>
    public ulong LineOf(int bucket) => _table + ((ulong)bucket * KernelObjects.LineBytes);

    /// <summary>queue_me: <paramref name="task"/> sleeps on the word, last in <paramref name="bucket"/>'s chain.</summary>
    public void Queue(int bucket, MemoryDescriptor mm, ulong address, Process task) => (_chains[bucket] ??= []).Add(new Waiter(mm, address, task));

    /// <summary>Takes up to <paramref name="count"/> of the sleepers on the word out of <paramref name="bucket"/>'s chain, in the order they queued.</summary>
    public List<Process> TakeWaiters(int bucket, MemoryDescriptor mm, ulong address, int count)
    {
        var taken = new List<Process>();
        if (_chains[bucket] is { } chain)
        {
            for (int i = 0; i < chain.Count && taken.Count < count; i++)
            {
                if (chain[i].Mm == mm && chain[i].Address == address)
                {
                    taken.Add(chain[i].Task);
                    chain.RemoveAt(i--);
                }
            }
        }
        return taken;
    }

    /// <summary>A 64-bit finalizer (splitmix64's): spreads keys over the buckets as jhash2 does.</summary>
    private static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private readonly record struct Waiter(MemoryDescriptor Mm, ulong Address, Process Task);
}
