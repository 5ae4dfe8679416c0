using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>Process life: creation, fork with copy-on-write, exit, wait and reaping.</summary>
public sealed partial class LinuxKernel
{
    /// <summary>A new process: a child of <paramref name="parent"/> in its container, or one with no parent in <paramref name="container"/>.</summary>
    private Process NewProcess(Process? parent, IReadOnlyList<MemoryRegion> regions, IProgram program, Container? container = null)
    {
        AddressSpaceBuilder space = _platform.NewAddressSpace(() => _this.Node); // page tables from the node of the CPU that makes them
        space.ShareKernelHalf(_kernelSpace);
        return NewTask(parent, new MemoryDescriptor(space, regions), program, container);
    }

    /// <summary>
    /// A new task on address space <paramref name="mm"/>: a process's own, or its creator's for a
    /// thread; a child of <paramref name="parent"/> unless it joins the parent's thread group
    /// (<paramref name="thread"/>'s InThreadGroup).
    /// </summary>
    private Process NewTask(Process? parent, MemoryDescriptor mm, IProgram program, Container? container = null, ThreadSetup thread = default)
    {
        var kernelMemory = new ProcessKernelMemory(Memory.AllocateFrame(), Memory.AllocateFrame(), Memory.AllocateFrame());
        var p = new Process(_nextPid++, parent, mm, program, kernelMemory)
        {
            Container = parent?.Container ?? container,
            Affinity = parent?.Affinity ?? ulong.MaxValue,
            InThreadGroup = thread.InThreadGroup,
            ClearChildTid = thread.ClearChildTid,
        };
        if (!p.InThreadGroup)
        {
            parent?.Children.Add(p);
        }
        if (p.Container is { } c)
        {
            c.LiveProcesses++;
        }
        return p;
    }

    /// <summary>
    /// fork, after Linux 2.6's copy_process: the child's kernel stack and task structures are
    /// allocated and copied from the parent's, its top-level page table gets the kernel half, and
    /// every region (VMA) is duplicated; page-table entries are copied only for regions that can
    /// hold anonymous pages (copy_page_range skips read-only file mappings, which the child faults
    /// in on demand), each copied page taking a reference and a reverse mapping (two locked
    /// operations on its page descriptor), writable ones made read-only in both, copy-on-write.
    /// The child runs first (see <see cref="MakeRunnableFirst"/>).
    /// </summary>
    private void Fork(Core core, KernelPath path, Process parent)
    {
        _forks.Increment();
        path.Run(KernelRoutine.Fork);
        Process child = NewProcess(parent, parent.Regions, parent.Program.ForkChild());
        ProcessKernelMemory from = parent.KernelMemory, to = child.KernelMemory;
        PageAllocator(path, times: 3)
            .CopyLines(from.Task, to.Task, KernelObjects.TaskStructLines)
            .CopyLines(from.StackBottom, to.StackBottom, 1) // thread_info
            .CopyLines(from.SavedRegisters, to.SavedRegisters, KernelObjects.SavedRegisterLines)
            .CopyLines(from.SignalHandlers, to.SignalHandlers, KernelObjects.SignalHandlerLines);
        AllocatePgd(path, child.Space);
        foreach (MemoryRegion r in parent.Regions)
        {
            path.Run(KernelRoutine.ForkPerRegion);
            if (r.FileId is not null && !r.Writable)
            {
                continue; // no anonymous pages: nothing to copy
            }
            for (ulong page = 0; page < r.Pages; page++)
            {
                CopyPageTableEntry(path, parent, child, r.Start + (page * 4096));
            }
        }
        _ops.FlushTlb(path, parent.Space.Pml4); // the parent's writable translations are now stale
        parent.Program.SyscallReturned(child.Pid);
        MakeRunnableFirst(core, path, parent, child);
    }

    /// <summary>
    /// clone with CLONE_VM: a new task that shares its creator's address space, after
    /// copy_process like fork but with the mm shared by reference instead of copied, so no page
    /// table is touched. With SIGCHLD as its exit signal it is a child, waitable with wait4; with
    /// CLONE_THREAD it joins the creator's thread group, as NPTL's threads do, and is released
    /// when it exits. CLONE_PARENT_SETTID writes its ID to the word at the third argument, and
    /// CLONE_CHILD_CLEARTID has the kernel clear that word and wake its futex waiters when it
    /// exits (glibc passes one word, the thread descriptor's tid, for both; pthread_join waits on
    /// it). It starts as a forked child does (<see cref="MakeRunnableFirst"/>): on an idle CPU when
    /// there is one. Without CLONE_VM the call fails with EINVAL: the model forks with fork.
    /// </summary>
    private void Clone(Core core, KernelPath path, Process parent)
    {
        long flags = parent.Program.PendingArgument;
        ulong tidWord = (ulong)parent.Program.PendingCount;
        if ((flags & CloneVm) == 0 || ((flags & (CloneParentSetTid | CloneChildClearTid)) != 0 && tidWord % 4 != 0))
        {
            parent.Program.SyscallReturned(Einval);
            return;
        }
        _clones.Increment();
        path.Run(KernelRoutine.Fork);
        parent.Mm.Users++;
        var setup = new ThreadSetup((flags & CloneThread) != 0, (flags & CloneChildClearTid) != 0 ? tidWord : null);
        Process thread = NewTask(parent, parent.Mm, parent.Program.ForkChild(), thread: setup);
        if ((flags & CloneParentSetTid) != 0 && UserWord(path, parent, tidWord, write: true) is { } word)
        {
            path.Execute(Op.Store(tidWord));
            SetWordAt(word, (uint)thread.Pid);
        }
        ProcessKernelMemory from = parent.KernelMemory, to = thread.KernelMemory;
        PageAllocator(path, times: 3)
            .CopyLines(from.Task, to.Task, KernelObjects.TaskStructLines)
            .CopyLines(from.StackBottom, to.StackBottom, 1)
            .CopyLines(from.SavedRegisters, to.SavedRegisters, KernelObjects.SavedRegisterLines);
        parent.Program.SyscallReturned(thread.Pid);
        MakeRunnableFirst(core, path, parent, thread);
    }

    /// <summary>clone's flags (include/uapi/linux/sched.h).</summary>
    public const long CloneVm = 0x100, CloneThread = 0x10000, CloneSighand = 0x800, CloneParentSetTid = 0x100000, CloneChildClearTid = 0x200000;

    /// <summary>How clone sets a task up: in its creator's thread group or a child, and the word it clears at exit.</summary>
    private readonly record struct ThreadSetup(bool InThreadGroup, ulong? ClearChildTid);

    private void CopyPageTableEntry(KernelPath path, Process parent, Process child, ulong va)
    {
        if (parent.Space.LeafEntryAddress(va) is not { } leaf)
        {
            return;
        }
        ulong entry = Memory.ReadUInt64(leaf);
        if (IsHugeEntry(entry))
        {
            if (va % HugePageBytes == 0)
            {
                CopyHugePage(path, child, leaf, va); // once, at its first page
            }
            return;
        }
        path.Load(leaf).Run(KernelRoutine.PerPteCopy);
        if (IsSwapEntry(entry))
        {
            CopySwapEntry(child, va, entry);
            LinkNewTables(path, child.Space);
            path.Store(child.Space.LeafEntryAddress(va)!.Value);
            return;
        }
        if ((entry & PageEntry.Present) == 0)
        {
            return;
        }
        if ((entry & PageEntry.Writable) != 0)
        {
            entry &= ~PageEntry.Writable;
            Memory.WriteUInt64(leaf, entry);
            path.Atomic(leaf); // ptep_set_wrprotect: a locked bit clear
            _ops.UpdatePageTableEntry(path, leaf);
        }
        ulong frame = entry & PageEntry.AddressMask;
        child.Space.Map4K(va, frame, entry & (PageEntry.User | PageEntry.Writable | PageEntry.NoExecute));
        LinkNewTables(path, child.Space);
        path.Store(child.Space.LeafEntryAddress(va)!.Value);
        _frames.TakeReference(path, frame); // get_page and page_dup_rmap
    }

    /// <summary>
    /// The new child runs before its parent, which goes back on the run queue ahead of everyone
    /// else while its time slice lasts: Linux 2.6's scheduler did this by default (sysctl
    /// kernel.sched_child_runs_first, 1 until 2.6.32), so the child's exec or exit usually comes
    /// before the parent's writes and spares copy-on-write copies. As the O(1) scheduler's
    /// sched_fork does, the child takes half of the parent's remaining slice; a parent left with
    /// none goes to the back of the queue.
    /// </summary>
    private void MakeRunnableFirst(Core core, KernelPath path, Process parent, Process child)
    {
        child.SliceTicks = (parent.SliceTicks + 1) / 2;
        parent.SliceTicks /= 2;
        if (Smp && IdleCpuFor(child) is { } idle)
        {
            // wake_up_new_task with SD_BALANCE_FORK: the child starts on an idle CPU, and the parent runs on.
            parent.SliceTicks = Math.Max(1, parent.SliceTicks);
            child.LastCpu = idle.Index;
            child.State = ProcessState.Ready;
            Wake(child, path);
            return;
        }
        parent.State = ProcessState.Ready;
        if (parent.SliceTicks > 0)
        {
            _this.RunQueue.EnqueueFirst(parent);
        }
        else
        {
            parent.SliceTicks = SliceFor(parent);
            _this.RunQueue.Enqueue(parent);
        }
        _this.RunQueue.EnqueueFirst(child);
        SwitchToNext(core, path);
    }

    /// <remarks>
    /// A thread's ID word is cleared and its joiner woken first on the path, as mm_release does
    /// early in do_exit: the joiner, woken at once in the model, may run on another CPU and
    /// unmap the process's memory before a later step of this path would have run. Even the
    /// first step may run after that (the model does a path's effects when it builds it, and the
    /// CPU runs its operations later), so the put_user's store reaches the word's frame through
    /// the direct map, not through the user mapping the last thread's exit may already have
    /// removed: through it, the store faulted in kernel mode on a CPU with no current process
    /// (mutex-counter with 8 threads on 16 Skylake cores, size 600, crashed so until 2026-12-07).
    /// </remarks>
    private void Exit(Core core, KernelPath path, Process dying, int status)
    {
        if (dying.ClearChildTid is { } tidWord && UserWord(path, dying, tidWord, write: true) is { } word)
        {
            // mm_release: put_user(0) on the thread's ID word, and a wake-up of one waiter (pthread_join).
            path.Store(word);
            SetWordAt(word, 0);
            WakeWaiters(path, dying.Mm, tidWord, 1);
        }
        _exits.Increment();
        LeaveContainer(core, dying);
        if (dying.Parent is { State: not ProcessState.Zombie } living && !dying.InThreadGroup)
        {
            living.SliceTicks = Math.Min(SliceTicks, living.SliceTicks + dying.SliceTicks); // sched_exit: the child's unused slice goes back to its parent
        }
        path.Run(KernelRoutine.Exit);
        bool lastUser = --dying.Mm.Users == 0; // mmput: the address space goes with its last thread
        AioExit(path, dying);
        if (lastUser)
        {
            UnmapAll(path, dying);
        }
        dying.State = ProcessState.Zombie;
        dying.ExitCode = status;
        if (dying.Parent is { State: ProcessState.WaitingForChild } parent && !dying.InThreadGroup)
        {
            Reap(path, parent, dying);
            parent.State = ProcessState.Ready;
            Wake(parent, path);
        }
        SwitchToNext(core, path);
        foreach (Process zombie in dying.Children.Where(c => c.State == ProcessState.Zombie))
        {
            FreeKernelMemory(zombie); // reaped by init, outside the model's timed paths
        }
        if (dying.Parent is null or { State: ProcessState.Zombie } || dying.InThreadGroup)
        {
            FreeKernelMemory(dying); // no parent will wait for it (a thread of a group is released at once)
        }
        // The tables are freed at the next kernel entry, when the core surely runs on another
        // address space (as Linux drops the last reference to an mm after the switch).
        if (lastUser)
        {
            _deadSpaces.Enqueue(dying.Space);
        }
    }

    /// <summary>Unmaps every resident page of the process's regions, releasing the frames (page-cache pages keep the cache's reference).</summary>
    private void UnmapAll(KernelPath path, Process p)
    {
        LeaveKhugepaged(p.Mm);
        foreach (MemoryRegion r in p.Regions)
        {
            path.Run(KernelRoutine.ExitPerRegion);
            for (ulong page = 0; page < r.Pages; page++)
            {
                UnmapPage(path, p, r.Start + (page * 4096));
            }
        }
    }

    /// <summary>
    /// execve: the process drops its address space (unmapped now, its tables freed at the next
    /// kernel entry) and gets a fresh one with the image's text mapped from the page cache on
    /// demand and its data, heap and stack demand-zero; it then runs the image's program.
    /// </summary>
    private void Exec(Core core, KernelPath path, Process p, ExecutableImage image)
    {
        path.Run(KernelRoutine.Exec);
        if (--p.Mm.Users == 0)
        {
            UnmapAll(path, p);
            _deadSpaces.Enqueue(p.Space);
        }
        AddressSpaceBuilder space = _platform.NewAddressSpace(() => _this.Node); // page tables from the node of the CPU that makes them
        space.ShareKernelHalf(_kernelSpace);
        AllocatePgd(path, space);
        p.Mm = new MemoryDescriptor(space,
        [
            new MemoryRegion("text", ExecutableImage.TextBase, Files[image.TextFileId].Pages, Writable: false, Populated: false, FileId: image.TextFileId),
            new MemoryRegion("data", ExecutableImage.DataBase, image.DataPages, Writable: true, Populated: false),
            new MemoryRegion("heap", ExecutableImage.HeapBase, image.HeapPages, Writable: true, Populated: false),
            new MemoryRegion("stack", ExecutableImage.StackBase, image.StackPages, Writable: true, Populated: false),
        ]);
        p.Program = image.Program();
        LoadAddressSpace(path, p.Mm);
        core.ReplaceUserStream(p.Program);
    }

    /// <summary>
    /// Frees the page tables of dead address spaces, except one still loaded in
    /// <paramref name="core"/>'s CR3: the idle loop runs on the last process's tables (Linux's lazy
    /// TLB mode), which are freed once another process's are loaded. With no core, frees them all.
    /// </summary>
    private void FreeDeadAddressSpaces(Core? core, KernelPath path)
    {
        for (int n = _deadSpaces.Count; n > 0; n--)
        {
            AddressSpaceBuilder space = _deadSpaces.Dequeue();
            if (Smp ? _cpus.Any(c => c.Core.Cr3 == space.Pml4) : core?.Cr3 == space.Pml4) // a virtual CPU's own CR3, even while it waits for its core
            {
                _deadSpaces.Enqueue(space);
                continue;
            }
            path.Run(KernelRoutine.PerTableFree, times: space.ReleaseUserHalf());
        }
    }

    private void Wait(Core core, KernelPath path, Process parent)
    {
        if (parent.Children.FirstOrDefault(c => c.State == ProcessState.Zombie) is { } zombie)
        {
            Reap(path, parent, zombie);
            return;
        }
        if (parent.Children.Count == 0)
        {
            parent.Program.SyscallReturned(Echild);
            return;
        }
        parent.State = ProcessState.WaitingForChild;
        SwitchToNext(core, path);
    }

    private void Reap(KernelPath path, Process parent, Process child)
    {
        PageAllocator(path.Run(KernelRoutine.Wait), times: 3).Load(child.KernelMemory.Task); // release_task frees the stack and task structures
        FreeKernelMemory(child);
        parent.Children.Remove(child);
        parent.Program.SyscallReturned(child.Pid);
    }

    private void FreeKernelMemory(Process p)
    {
        Memory.FreeFrame(p.KernelMemory.StackBottom);
        Memory.FreeFrame(p.KernelMemory.StackTop);
        Memory.FreeFrame(p.KernelMemory.Task);
    }
}
