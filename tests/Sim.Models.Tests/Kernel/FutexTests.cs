using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Models.Tests.Kernel.SmpKernelTests;

namespace Sim.Models.Tests.Kernel;

public class FutexTests
{
    private const ulong Lock = ExecutableImage.DataBase, Counter = ExecutableImage.DataBase + 64, TidWord = ExecutableImage.DataBase + 4096;
    private const long ThreadFlags = LinuxKernel.CloneVm | LinuxKernel.CloneSighand | LinuxKernel.CloneThread | LinuxKernel.CloneParentSetTid | LinuxKernel.CloneChildClearTid;

    private static IEnumerable<Op> Futex(Script s, ulong word, int operation, uint value)
    {
        s.PendingArgument = (long)word;
        s.PendingSecondArgument = operation | LinuxKernel.FutexPrivateFlag;
        s.PendingCount = value;
        yield return Call(SyscallNumber.Futex);
    }

    /// <summary>glibc's lll_lock and lll_unlock (nptl/lowlevellock.c).</summary>
    private static IEnumerable<Op> MutexLock(Script s)
    {
        yield return Op.CompareExchange(Lock, 0, 1);
        if (s.LastObserved == 0)
        {
            yield break;
        }
        while (true)
        {
            yield return Op.Exchange(Lock, 2);
            if (s.LastObserved == 0)
            {
                yield break;
            }
            foreach (Op op in Futex(s, Lock, LinuxKernel.FutexWaitOp, 2))
            {
                yield return op;
            }
        }
    }

    private static IEnumerable<Op> MutexUnlock(Script s)
    {
        yield return Op.Exchange(Lock, 0);
        if (s.LastObserved > 1)
        {
            foreach (Op op in Futex(s, Lock, LinuxKernel.FutexWakeOp, 1))
            {
                yield return op;
            }
        }
    }

    /// <summary>A test-and-test-and-set lock, as glibc's pthread_spin_lock.</summary>
    private static IEnumerable<Op> SpinLock(Script s)
    {
        yield return Op.Exchange(Lock, 1);
        while (s.LastObserved != 0)
        {
            yield return Op.Execute(Instruction.Pause);
            yield return Op.LoadWord(Lock);
            if (s.LastObserved == 0)
            {
                yield return Op.CompareExchange(Lock, 0, 1);
            }
        }
    }

    /// <summary><paramref name="increments"/> read-modify-write increments of the counter word, each under the lock for <paramref name="critical"/> instructions.</summary>
    private static IEnumerable<Op> Increments(Script s, int increments, bool mutex, int critical)
    {
        for (int i = 0; i < increments; i++)
        {
            foreach (Op op in mutex ? MutexLock(s) : SpinLock(s))
            {
                yield return op;
            }
            yield return Op.LoadWord(Counter);
            uint value = (uint)s.LastObserved;
            yield return Op.Alu(critical);
            yield return Op.StoreWord(Counter, value + 1);
            foreach (Op op in mutex ? MutexUnlock(s) : [Op.StoreWord(Lock, 0)])
            {
                yield return op;
            }
            yield return Op.Alu(5_000);
        }
    }

    /// <summary>pthread_join: while the thread's ID word is set, FUTEX_WAIT on it.</summary>
    private static IEnumerable<Op> Join(Script s, ulong word)
    {
        while (true)
        {
            yield return Op.LoadWord(word);
            if (s.LastObserved == 0)
            {
                yield break;
            }
            foreach (Op op in Futex(s, word, LinuxKernel.FutexWaitOp, (uint)s.LastObserved))
            {
                yield return op;
            }
        }
    }

    /// <summary>
    /// Four threads increment a counter under a lock, on four CPUs (short critical sections, the
    /// threads meet all the time) or on one (critical sections of half a millisecond, so that the
    /// scheduler preempts holders: the threads' slices, 3 to 13 ticks of 4 ms, end inside them).
    /// The spinlock on one CPU is left out: its waiters spin out whole slices, millions of rounds.
    /// </summary>
    [Theory]
    [InlineData(1, true, 1_500_000)]
    [InlineData(4, true, 2_000)]
    [InlineData(4, false, 2_000)]
    public void A_lock_keeps_every_increment_of_four_threads_preempted_or_on_four_CPUs(int cpus, bool mutex, int critical)
    {
        const int Threads = 4, Each = 100;
        var rig = new Rig(cpus);
        uint final = 0;
        IEnumerable<Op> Main(Script s)
        {
            for (int t = 1; t < Threads; t++)
            {
                s.PendingArgument = ThreadFlags;
                s.PendingCount = (long)(TidWord + (ulong)(t * 64));
                yield return Call(SyscallNumber.Clone);
            }
            foreach (Op op in Increments(s, Each, mutex, critical))
            {
                yield return op;
            }
            for (int t = 1; t < Threads; t++)
            {
                foreach (Op op in Join(s, TidWord + (ulong)(t * 64)))
                {
                    yield return op;
                }
            }
            yield return Op.LoadWord(Counter);
            final = (uint)s.LastObserved;
            yield return Call(SyscallNumber.Exit);
        }
        rig.Kernel.Start(new Script(Main, () => new Script(s => Increments(s, Each, mutex, critical).Append(Call(SyscallNumber.Exit)))), Image);
        rig.Run();
        Assert.Equal((uint)(Threads * Each), final); // no increment lost: the lock excluded
        Assert.Equal(Threads - 1, rig.Stat("host.kernel", "clones"));
        if (mutex)
        {
            Assert.True(rig.Stat("host.kernel", "futex_waits") > 0, "contended: some waiters slept");
        }
        if (cpus == 1)
        {
            Assert.True(rig.Stat("host.kernel", "context_switches") > Threads, "the tick preempted holders");
        }
    }

    [Fact]
    public void FUTEX_WAIT_fails_with_EAGAIN_when_the_word_has_changed_and_FUTEX_WAKE_says_how_many_it_woke()
    {
        var rig = new Rig(1);
        var main = new Script(s => Futex(s, Lock, LinuxKernel.FutexWaitOp, 5) // the word holds 0
            .Concat(Futex(s, Lock, LinuxKernel.FutexWakeOp, 1))               // no one waits
            .Concat(Futex(s, Lock + 2, LinuxKernel.FutexWaitOp, 0))           // not aligned
            .Concat(Futex(s, 0x7000_0000, LinuxKernel.FutexWaitOp, 0))        // not mapped
            .Append(Call(SyscallNumber.Exit)));
        rig.Kernel.Start(main, Image);
        rig.Run();
        Assert.Equal([-11L, 0L, -22L, -14L], main.Results);
    }

    [Fact]
    public void A_thread_that_exits_clears_its_ID_word_and_wakes_its_joiner_and_no_one_reaps_it()
    {
        var rig = new Rig(2);
        long tid = 0;
        uint seen = 0;
        var main = new Script(s =>
        {
            IEnumerable<Op> Steps()
            {
                s.PendingArgument = ThreadFlags;
                s.PendingCount = (long)TidWord;
                yield return Call(SyscallNumber.Clone);
                tid = s.LastResult;
                yield return Op.LoadWord(TidWord);
                seen = (uint)s.LastObserved;
                foreach (Op op in Join(s, TidWord))
                {
                    yield return op;
                }
                yield return Call(SyscallNumber.Wait4);
                yield return Call(SyscallNumber.Exit);
            }
            return Steps();
        }, () => new Script(_ => [.. Enumerable.Repeat(Op.Alu(1_000), 2_000), Call(SyscallNumber.Exit)]));
        rig.Kernel.Start(main, Image);
        rig.Run();
        Assert.Equal(2, tid);
        Assert.Equal((uint)tid, seen); // CLONE_PARENT_SETTID
        Assert.Equal(0L, main.Results[1]); // the join slept, and the thread's exit woke it
        Assert.Equal(-10L, main.Results[^1]); // wait4: ECHILD, a thread of the group is no child
        Assert.Equal(1, rig.Stat("host.kernel", "futex_waits"));
        Assert.Equal(1, rig.Stat("host.kernel", "futex_wakes"));
    }
}
