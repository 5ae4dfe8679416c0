using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>Process life: creation, fork with copy-on-write, exit, wait and reaping.</summary>
public sealed partial class LinuxKernel
{
    private Process NewProcess(Process? parent, IReadOnlyList<MemoryRegion> regions, IProgram program)
    {
        AddressSpaceBuilder space = _machine.NewAddressSpace();
        space.ShareKernelHalf(_kernelSpace);
        var p = new Process(_nextPid++, parent, space, regions, program);
        parent?.Children.Add(p);
        return p;
    }

    /// <summary>fork: a new process sharing every page copy-on-write; the parent's writable pages become read-only in both.</summary>
    private void Fork(KernelPath path, Process parent)
    {
        _forks.Increment();
        path.Work(_costs.ForkBase);
        Process child = NewProcess(parent, parent.Regions, parent.Program.ForkChild());
        foreach (MemoryRegion r in parent.Regions)
        {
            for (ulong page = 0; page < r.Pages; page++)
            {
                ulong va = r.Start + (page * 4096);
                if (parent.Space.LeafEntryAddress(va) is not { } leaf)
                {
                    continue;
                }
                ulong entry = Memory.ReadUInt64(leaf);
                path.Load(leaf).Work(_costs.PerPteCopy);
                if ((entry & PageEntry.Present) == 0)
                {
                    continue;
                }
                if ((entry & PageEntry.Writable) != 0)
                {
                    entry &= ~PageEntry.Writable;
                    Memory.WriteUInt64(leaf, entry);
                    _ops.UpdatePageTableEntry(path, leaf);
                }
                ulong frame = entry & PageEntry.AddressMask;
                int tablesBefore = child.Space.TableFrames;
                child.Space.Map4K(va, frame, entry & (PageEntry.User | PageEntry.Writable | PageEntry.NoExecute));
                ulong childLeaf = child.Space.LeafEntryAddress(va)!.Value;
                if (child.Space.TableFrames > tablesBefore)
                {
                    path.ZeroPage(childLeaf & ~0xFFFUL);
                }
                path.Store(childLeaf);
                _frameReferences[frame] = _frameReferences.GetValueOrDefault(frame, 1) + 1;
            }
        }
        _ops.FlushTlb(path, parent.Space.Pml4); // the parent's writable translations are now stale
        _ready.Enqueue(child);
        parent.Program.SyscallReturned(child.Pid);
    }

    private void Exit(Core core, KernelPath path, Process dying, int status)
    {
        _exits.Increment();
        path.Work(_costs.ExitBase);
        UnmapAll(path, dying);
        dying.State = ProcessState.Zombie;
        dying.ExitCode = status;
        if (dying.Parent is { State: ProcessState.Waiting } parent)
        {
            Reap(path, parent, dying);
            parent.State = ProcessState.Ready;
            _ready.Enqueue(parent);
        }
        SwitchToNext(core, path);
        // The tables are freed at the next kernel entry, when the core surely runs on another
        // address space (as Linux drops the last reference to an mm after the switch).
        _deadSpaces.Enqueue(dying.Space);
    }

    /// <summary>Unmaps every resident page of the process's regions, releasing the frames (page-cache pages keep the cache's reference).</summary>
    private void UnmapAll(KernelPath path, Process p)
    {
        foreach (MemoryRegion r in p.Regions)
        {
            for (ulong page = 0; page < r.Pages; page++)
            {
                if (p.Space.LeafEntryAddress(r.Start + (page * 4096)) is not { } leaf)
                {
                    continue;
                }
                ulong entry = Memory.ReadUInt64(leaf);
                if ((entry & PageEntry.Present) == 0)
                {
                    continue;
                }
                path.Load(leaf).Work(_costs.PerPteUnmap);
                Memory.WriteUInt64(leaf, 0);
                _ops.UpdatePageTableEntry(path, leaf);
                Release(entry & PageEntry.AddressMask);
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
        path.Work(_costs.ExecBase);
        UnmapAll(path, p);
        _deadSpaces.Enqueue(p.Space);
        AddressSpaceBuilder space = _machine.NewAddressSpace();
        space.ShareKernelHalf(_kernelSpace);
        p.Space = space;
        p.ReplaceRegions(
        [
            new MemoryRegion("text", ExecutableImage.TextBase, Files[image.TextFileId].Pages, Writable: false, Populated: false, FileId: image.TextFileId),
            new MemoryRegion("data", ExecutableImage.DataBase, image.DataPages, Writable: true, Populated: false),
            new MemoryRegion("heap", ExecutableImage.HeapBase, image.HeapPages, Writable: true, Populated: false),
            new MemoryRegion("stack", ExecutableImage.StackBase, image.StackPages, Writable: true, Populated: false),
        ]);
        p.Program = image.Program();
        _ops.SwitchAddressSpace(path, space.Pml4);
        core.ReplaceUserStream(p.Program);
    }

    private void FreeDeadAddressSpaces(KernelPath path)
    {
        while (_deadSpaces.TryDequeue(out AddressSpaceBuilder? space))
        {
            path.Work(_costs.PerTableFree * space.ReleaseUserHalf());
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
        parent.State = ProcessState.Waiting;
        SwitchToNext(core, path);
    }

    private void Reap(KernelPath path, Process parent, Process child)
    {
        path.Work(_costs.Wait);
        parent.Children.Remove(child);
        parent.Program.SyscallReturned(child.Pid);
    }
}
