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
/// The words' keys and sleepers are the <see cref="FutexHashTable"/>'s (with or without
/// FUTEX_PRIVATE_FLAG, a key is private). Not modelled: timeouts, requeueing, priority
/// inheritance, bitsets and signals interrupting a wait.
/// </remarks>
public sealed partial class LinuxKernel
{
    /// <summary>futex operations (include/uapi/linux/futex.h).</summary>
    public const int FutexWaitOp = 0, FutexWakeOp = 1, FutexPrivateFlag = 128;

    private const long Eagain = -11, Efault = -14;

    private readonly Sim.Engine.Statistics.Counter _futexWaits;
    private readonly Sim.Engine.Statistics.Counter _futexWakes;

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
            _futexes.Queue(bucket, current.Mm, address, current);
            path.Store(_futexes.LineOf(bucket)); // queue_me links the waiter into the chain
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
        List<Process> woken = _futexes.TakeWaiters(bucket, mm, address, count);
        foreach (Process sleeper in woken)
        {
            path.Load(sleeper.KernelMemory.Task); // wake_futex: the task to wake
            sleeper.State = ProcessState.Ready;
            Wake(sleeper, path);
        }
        UnlockBucket(path, bucket);
        return woken.Count;
    }

    /// <summary>Runs <paramref name="routine"/> (hashing the key) and takes the bucket's lock; in a kernel of one CPU, which has no spinlocks, reads the bucket's line instead. The bucket.</summary>
    private int LockBucket(KernelPath path, AddedRoutine routine, MemoryDescriptor mm, ulong address)
    {
        if (!_futexes.LaidOut)
        {
            _text.LayOutAddedRoutines();
            _futexes.LayOut(_cpus.Count);
        }
        path.Run(routine);
        int bucket = _futexes.BucketOf(mm, address);
        if (Smp)
        {
            path.SpinLock(_futexes.LineOf(bucket));
        }
        else
        {
            path.Load(_futexes.LineOf(bucket));
        }
        return bucket;
    }

    private void UnlockBucket(KernelPath path, int bucket)
    {
        if (Smp)
        {
            path.SpinUnlock(_futexes.LineOf(bucket));
        }
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
                return PhysicalThrough(entry, address);
            }
            if (attempt == 0 && HandlePageFault(path, p, write ? PageFaultErrorCode.Write : 0, address, core: null) != FaultOutcome.Retry)
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
