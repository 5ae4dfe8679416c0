using Sim.Models.Cpu;
using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>
/// Futexes (kernel/futex.c): FUTEX_WAIT puts the caller to sleep on a 32-bit word of its memory
/// if the word still holds the value it expects, and FUTEX_WAKE wakes up to a number of the
/// sleepers on a word. User space does the rest with locked instructions (glibc's mutexes,
/// pthread_join on a thread's ID word), entering the kernel only when it must wait or wake.
/// </summary>
/// <remarks>
/// The key of a word is its address space and address, as get_futex_key makes it for private
/// anonymous memory (with or without FUTEX_PRIVATE_FLAG). The keys hash into a table of buckets,
/// each a cache line with a spinlock and its chain of sleepers, sized as futex_init sizes it
/// since Linux 3.13: 256 buckets for each CPU, rounded up to a power of two; laid out with the
/// first futex call, so that kernels that make none keep their memory as it was. The hash is a
/// 64-bit mix standing for jhash2. Not modelled: timeouts, requeueing, priority inheritance,
/// bitsets and signals interrupting a wait.
/// </remarks>
public sealed partial class LinuxKernel
{
    /// <summary>futex operations (include/uapi/linux/futex.h).</summary>
    public const int FutexWaitOp = 0, FutexWakeOp = 1, FutexPrivateFlag = 128;

    private const long Eagain = -11, Efault = -14;
    private const int BucketsPerCpu = 256;

    private ulong _futexTable;                   // physical address of the hash table, a line per bucket
    private List<FutexWaiter>?[] _futexChains = []; // per bucket, its sleepers in the order they queued
    private readonly Sim.Engine.Statistics.Counter _futexWaits;
    private readonly Sim.Engine.Statistics.Counter _futexWakes;

    private readonly record struct FutexWaiter(MemoryDescriptor Mm, ulong Address, Process Task);

    private void Futex(Core core, KernelPath path, Process current)
    {
        IProgram program = current.Program;
        ulong address = (ulong)program.PendingArgument;
        switch ((int)program.PendingSecondArgument & ~FutexPrivateFlag)
        {
            case FutexWaitOp:
                WaitOnWord(core, path, current, address, (uint)program.PendingCount);
                break;
            case FutexWakeOp:
                program.SyscallReturned(address % 4 != 0 ? Einval : WakeWaiters(path, current.Mm, address, (int)Math.Min(int.MaxValue, program.PendingCount)));
                break;
            default:
                program.SyscallReturned(Enosys);
                break;
        }
    }

    /// <summary>
    /// futex_wait: under the bucket's lock, the word is read; if it no longer holds
    /// <paramref name="expected"/> the call fails with EAGAIN (someone changed it since the caller
    /// looked), otherwise the caller joins the bucket's chain and sleeps until a FUTEX_WAKE.
    /// </summary>
    private void WaitOnWord(Core core, KernelPath path, Process current, ulong address, uint expected)
    {
        if (address % 4 != 0)
        {
            current.Program.SyscallReturned(Einval);
            return;
        }
        int bucket = LockBucket(path, AddedRoutine.FutexWait, current.Mm, address);
        _futexWaits.Increment();
        ulong? word = UserWord(path, current, address, write: false);
        if (word is { } physical)
        {
            path.Execute(Op.Load(address)); // get_futex_value_locked
        }
        long result = word is not { } at ? Efault : WordAt(at) != expected ? Eagain : 0;
        if (result == 0)
        {
            (_futexChains[bucket] ??= []).Add(new FutexWaiter(current.Mm, address, current));
            path.Store(BucketLine(bucket)); // queue_me links the waiter into the chain
        }
        UnlockBucket(path, bucket);
        current.Program.SyscallReturned(result);
        if (result == 0)
        {
            current.State = ProcessState.Waiting;
            SwitchToNext(core, path);
        }
    }

    /// <summary>futex_wake: wakes up to <paramref name="count"/> of the sleepers on the word, in the order they queued; how many it woke.</summary>
    private long WakeWaiters(KernelPath path, MemoryDescriptor mm, ulong address, int count)
    {
        int bucket = LockBucket(path, AddedRoutine.FutexWake, mm, address);
        _futexWakes.Increment();
        int woken = 0;
        if (_futexChains[bucket] is { } chain)
        {
            for (int i = 0; i < chain.Count && woken < count; i++)
            {
                if (chain[i].Mm != mm || chain[i].Address != address)
                {
                    continue;
                }
                Process sleeper = chain[i].Task;
                chain.RemoveAt(i--);
                path.Load(sleeper.KernelMemory.Task); // wake_futex: the task to wake
                sleeper.State = ProcessState.Ready;
                Wake(sleeper, path);
                woken++;
            }
        }
        UnlockBucket(path, bucket);
        return woken;
    }

    /// <summary>Runs <paramref name="routine"/> (hashing the key) and takes the bucket's lock; in a kernel of one CPU, which has no spinlocks, reads the bucket's line instead. The bucket.</summary>
    private int LockBucket(KernelPath path, AddedRoutine routine, MemoryDescriptor mm, ulong address)
    {
        if (_futexChains.Length == 0)
        {
            LayOutFutexTable();
        }
        path.Run(routine);
        int bucket = (int)(Mix(mm.Space.Pml4 ^ Mix(address)) & (ulong)(_futexChains.Length - 1));
        if (Smp)
        {
            path.SpinLock(BucketLine(bucket));
        }
        else
        {
            path.Load(BucketLine(bucket));
        }
        return bucket;
    }

    private void UnlockBucket(KernelPath path, int bucket)
    {
        if (Smp)
        {
            path.SpinUnlock(BucketLine(bucket));
        }
    }

    private ulong BucketLine(int bucket) => _futexTable + ((ulong)bucket * KernelObjects.LineBytes);

    private void LayOutFutexTable()
    {
        _text.LayOutAddedRoutines();
        int buckets = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(BucketsPerCpu * _cpus.Count));
        _futexTable = Memory.AllocateContiguous((ulong)buckets * KernelObjects.LineBytes);
        _futexChains = new List<FutexWaiter>?[buckets];
    }

    /// <summary>A 64-bit finalizer (splitmix64's): spreads keys over the buckets as jhash2 does.</summary>
    private static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>
    /// The physical address of the user word at <paramref name="address"/> of <paramref name="p"/>,
    /// faulted in first when its page is not present (or, for a write, not writable: a
    /// copy-on-write break) as get_user and put_user fault in kernel mode; null when the address
    /// is not one the process may access so.
    /// </summary>
    private ulong? UserWord(KernelPath path, Process p, ulong address, bool write)
    {
        ulong required = PageEntry.Present | (write ? PageEntry.Writable : 0);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            ulong entry = p.Space.LeafEntryAddress(address) is { } leaf ? Memory.ReadUInt64(leaf) : 0;
            if ((entry & required) == required)
            {
                return (entry & PageEntry.AddressMask) + (address & 0xFFF);
            }
            if (attempt == 0 && !HandlePageFault(path, p, write ? PageFaultErrorCode.Write : 0, address))
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>The 32-bit word at <paramref name="physical"/> as the CPUs left it.</summary>
    private uint WordAt(ulong physical) => (uint)(_platform.ReadWord(physical & ~7UL) >> (int)((physical & 4) * 8));

    /// <summary>put_user of a 32-bit value, where the CPUs will see it.</summary>
    private void SetWordAt(ulong physical, uint value)
    {
        int shift = (int)((physical & 4) * 8);
        ulong contents = _platform.ReadWord(physical & ~7UL);
        _platform.WriteWord(physical & ~7UL, (contents & ~(0xFFFF_FFFFUL << shift)) | ((ulong)value << shift));
    }
}
