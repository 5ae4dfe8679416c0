using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Kernel;

public class LinuxKernelTests
{
    private const ulong Text = ExecutableImage.TextBase;
    private const ulong Data = ExecutableImage.DataBase;
    private const ulong Heap = 0x0000_0000_0100_0000;

    private static readonly MemoryRegion[] Image =
    [
        new("text", Text, 8, Writable: false),
        new("data", Data, 4, Writable: true),
    ];

    private static Op Call(SyscallNumber n) => Op.Execute(Instruction.Syscall, (ulong)n);

    [Fact]
    public void Fork_exit_and_wait_reap_every_child_and_return_every_frame()
    {
        var rig = new NativeKernelRig();
        Script Child() => new(_ => [Op.Alu(20), Op.Store(Data + 8), Call(SyscallNumber.Exit)]);
        var parent = new Script(s => Loop(s, 5), Child);
        static IEnumerable<Op> Loop(Script s, int n)
        {
            for (int i = 0; i < n; i++)
            {
                yield return Call(SyscallNumber.Fork);
                yield return Op.Store(Data); // the parent's data page is copy-on-write now
                yield return Call(SyscallNumber.Wait4);
            }
            yield return Call(SyscallNumber.Exit);
        }
        rig.Kernel.Start(parent, Image);
        rig.Run();

        Assert.Equal(6, rig.Kernel.ProcessesCreated);
        long[] children = [.. parent.Results.Where((_, i) => i % 2 == 0)];
        long[] reaped = [.. parent.Results.Where((_, i) => i % 2 == 1)];
        Assert.Equal([2L, 3, 4, 5, 6], children);
        Assert.Equal(children, reaped);
        Assert.Null(rig.Kernel.Current);
        Assert.Equal(rig.KernelFrames, rig.Machine.Memory.FramesInUse); // no page or table leaked
        Assert.True(rig.Stat("host.cpu0", "exceptions::PageFault") >= 5); // copy-on-write faults
        Assert.Equal((long)rig.Core.CyclesElapsed, rig.Core.TotalChargedCycles);
    }

    [Fact]
    public void A_copy_on_write_fault_gives_the_writer_its_own_copy_and_the_last_sharer_reuses_the_original()
    {
        var rig = new NativeKernelRig();
        Process init = null!;
        ulong original = 0, parentBeforeWrite = 0, parentAfterWrite = 0, childAfterWrite = 0;
        ulong EntryOf(Process p) => rig.Machine.Memory.ReadUInt64(p.Space.LeafEntryAddress(Data)!.Value);
        IEnumerable<Op> Parent(Script s)
        {
            original = EntryOf(init) & PageEntry.AddressMask;
            yield return Call(SyscallNumber.Fork);
            parentBeforeWrite = EntryOf(init); // the child has run first, written and exited
            yield return Op.Store(Data);
            parentAfterWrite = EntryOf(init); // runs once the store (and its fault) have executed
            yield return Call(SyscallNumber.Wait4);
            yield return Call(SyscallNumber.Exit);
        }
        IEnumerable<Op> Child(Script s)
        {
            yield return Op.Store(Data);
            childAfterWrite = EntryOf(rig.Kernel.Current!);
            yield return Call(SyscallNumber.Exit);
        }
        init = rig.Kernel.Start(new Script(Parent, () => new Script(Child)), Image);
        rig.Run();
        Assert.NotEqual(original, childAfterWrite & PageEntry.AddressMask); // the child copied
        Assert.NotEqual(0UL, childAfterWrite & PageEntry.Writable);
        Assert.Equal(original, parentBeforeWrite & PageEntry.AddressMask);
        Assert.Equal(0UL, parentBeforeWrite & PageEntry.Writable); // still copy-on-write in the parent
        Assert.Equal(original, parentAfterWrite & PageEntry.AddressMask); // the sole owner now: reused, not copied
        Assert.NotEqual(0UL, parentAfterWrite & PageEntry.Writable);
        Assert.Equal(2, rig.Stat("host.kernel", "copy_on_write_faults"));
    }

    [Fact]
    public void Fork_leaves_read_only_file_mappings_to_the_childs_faults()
    {
        var rig = new NativeKernelRig();
        const ulong Library = 0x0000_2AAA_AAAA_B000;
        int file = rig.Kernel.Files.Create("lib.so", 4 * 4096);
        rig.Kernel.Preload(file);
        bool? childInheritedLibrary = null;
        IEnumerable<Op> Child(Script s)
        {
            childInheritedLibrary = rig.Kernel.Current!.Space.LeafEntryAddress(Library) is { } leaf && (rig.Machine.Memory.ReadUInt64(leaf) & PageEntry.Present) != 0;
            yield return Op.Fetch(Library + 0x10);
            yield return Op.Load(Data); // private data: inherited, no fault
            yield return Call(SyscallNumber.Exit);
        }
        var parent = new Script(_ => [Op.Fetch(Library), Call(SyscallNumber.Fork), Call(SyscallNumber.Wait4), Call(SyscallNumber.Exit)], () => new Script(Child));
        rig.Kernel.Start(parent, [.. Image, new MemoryRegion("lib", Library, 4, Writable: false, Populated: false, FileId: file)]);
        rig.Run();
        Assert.False(childInheritedLibrary);
        Assert.Equal(2, rig.Stat("host.kernel", "file_faults")); // the parent's first fetch, then the child's
        Assert.Equal(2, rig.Stat("host.cpu0", "exceptions::PageFault"));
        Assert.Equal(rig.KernelFrames + 4, rig.Machine.Memory.FramesInUse); // only the page cache's pages remain
    }

    [Fact]
    public void A_caught_signal_runs_its_handler_and_the_program_resumes_after_kill()
    {
        var rig = new NativeKernelRig();
        var order = new List<string>();
        IEnumerable<Op> Handler(Script h)
        {
            order.Add("handler");
            yield return Op.Alu(3);
        }
        IEnumerable<Op> Body(Script s)
        {
            s.PendingArgument = 9;
            yield return Call(SyscallNumber.RtSigaction); // SIGKILL cannot be caught
            s.PendingArgument = 10;
            yield return Call(SyscallNumber.RtSigaction);
            yield return Call(SyscallNumber.Kill);
            order.Add("after kill");
            yield return Call(SyscallNumber.Kill);
            s.PendingArgument = 12;
            yield return Call(SyscallNumber.Kill);         // SIGUSR2, no handler: the default action kills
            order.Add("not reached");
            yield return Call(SyscallNumber.Exit);
        }
        var program = new Script(Body) { Handler = _ => new Script(Handler) };
        var parent = new Script(_ => [Call(SyscallNumber.Fork), Call(SyscallNumber.Wait4), Call(SyscallNumber.Exit)], () => program);
        rig.Kernel.Start(parent, [.. Image, new MemoryRegion("stack", ExecutableImage.StackBase, 4, Writable: true, Populated: false)]);
        rig.Run();
        Assert.Equal(["handler", "after kill", "handler"], order);
        Assert.Equal([-22L, 0, 0, 0, 0], program.Results); // the handler's own rt_sigreturn result is the handler's, not the program's
        Assert.Equal(2, rig.Stat("host.kernel", "signals_delivered"));
        Assert.Equal([2L, 2L], parent.Results); // the child died of SIGUSR2 and was reaped
        Assert.Equal(rig.KernelFrames, rig.Machine.Memory.FramesInUse);
    }

    [Fact]
    public void Untouched_heap_pages_are_demand_zero()
    {
        var rig = new NativeKernelRig();
        var prog = new Script(_ => [Op.Store(Heap + 0x10), Op.Store(Heap + 0x2010), Op.Load(Heap + 0x18), Call(SyscallNumber.Exit)]);
        rig.Kernel.Start(prog, [.. Image, new MemoryRegion("heap", Heap, 16, Writable: true, Populated: false)]);
        rig.Run();
        Assert.Equal(2, rig.Stat("host.cpu0", "exceptions::PageFault"));
        Assert.Equal(rig.KernelFrames, rig.Machine.Memory.FramesInUse);
    }

    [Fact]
    public void A_wild_access_kills_the_process_and_its_parent_reaps_it()
    {
        var rig = new NativeKernelRig();
        var parent = new Script(_ => [Call(SyscallNumber.Fork), Call(SyscallNumber.Wait4), Call(SyscallNumber.Exit)],
            () => new Script(_ => [Op.Store(0x7000_0000_0000), Op.Alu(5), Call(SyscallNumber.Exit)]));
        rig.Kernel.Start(parent, Image);
        rig.Run();
        Assert.Equal([2L, 2L], parent.Results);
        Assert.Equal(rig.KernelFrames, rig.Machine.Memory.FramesInUse);
    }

    [Fact]
    public void The_timer_tick_round_robins_two_busy_processes()
    {
        var rig = new NativeKernelRig();
        int childBlocks = 0, parentBlocks = 0;
        IEnumerable<Op> Busy(Action count)
        {
            for (int i = 0; i < 20_000; i++)
            {
                count();
                yield return Op.Alu(1_000); // 20 M cycles in all: many time slices
            }
            yield return Call(SyscallNumber.Exit);
        }
        var parent = new Script(_ => Prepend(Call(SyscallNumber.Fork), Busy(() => parentBlocks++)), () => new Script(_ => Busy(() => childBlocks++)));
        static IEnumerable<Op> Prepend(Op first, IEnumerable<Op> rest) => new[] { first }.Concat(rest);
        rig.Kernel.Start(parent, Image);
        rig.Kernel.StartTimer(vector: 236, initialCount: 20_000); // 200 us at 100 MHz
        rig.Sim.Run(Tick.FromMilliseconds(3));
        Assert.InRange(parentBlocks, 1_000, 19_999); // both have run, neither has finished: they took turns
        Assert.InRange(childBlocks, 1_000, 19_999);
        Assert.InRange(rig.Stat("host.cpu0.apic", "timer_interrupts"), 13, 16); // every 200 us
        double ticks = rig.Stat("host.cpu0.apic", "timer_interrupts");
        Assert.InRange(rig.Stat("host.cpu0.apic", "eois"), ticks - 1, ticks); // the tick at the very end may not be handled yet
    }
}

public class LinuxKernelFileTests
{
    private static Op Call(SyscallNumber n) => Op.Execute(Instruction.Syscall, (ulong)n);

    [Fact]
    public void A_cold_read_goes_to_the_disk_once_and_then_hits_the_page_cache()
    {
        var sim = new Simulator(1);
        LinuxKernel kernel = null!;
        var machine = new Machine(sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = 64UL << 20 },
            m => kernel = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
        kernel.StartDisk();
        int file = kernel.Files.Create("data.bin", 8192);
        int output = kernel.Files.Create("out.bin", 0, capacityBytes: 4096);
        var program = new Script(s => Body(s));
        IEnumerable<Op> Body(Script s)
        {
            s.PendingArgument = file;
            yield return Call(SyscallNumber.Open);            // fd 3
            s.PendingArgument = 3;
            yield return Call(SyscallNumber.Read);            // page 0 from the disk
            s.PendingArgument = file;
            yield return Call(SyscallNumber.Open);            // fd 4, offset 0 again
            s.PendingArgument = 4;
            yield return Call(SyscallNumber.Read);            // page 0 from the cache
            s.PendingArgument = output;
            yield return Call(SyscallNumber.Open);            // fd 5
            s.PendingArgument = 5;
            yield return Call(SyscallNumber.Write);
            yield return Call(SyscallNumber.Write);           // beyond the file's capacity
            s.PendingArgument = 9;
            yield return Call(SyscallNumber.Read);            // a bad descriptor
            yield return Call(SyscallNumber.Exit);
        }
        kernel.Start(program, [new MemoryRegion("data", 0x60_0000, 4, Writable: true)]);
        sim.Run(Sim.Engine.Time.Tick.FromMilliseconds(10));
        Assert.Equal([3L, 4096, 4, 4096, 5, 4096, -27, -9], program.Results);
        Assert.Equal(8, sim.Stats.Snapshot(sim.Now).Single(s => s.Path == "host.disk0" && s.Statistic == "sectors_read").Value);
        Assert.Equal(4096UL, kernel.Files[output].Size);
    }

    [Fact]
    public void An_image_file_asked_for_again_is_the_same_file_cached_once()
    {
        var sim = new Simulator(1);
        LinuxKernel kernel = null!;
        var machine = new Machine(sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = 64UL << 20 },
            m => kernel = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
        int libc = kernel.ImageFile("libc.so.6", 333 * 4096);
        ulong used = machine.Memory.FramesInUse;
        Assert.Equal(libc, kernel.ImageFile("libc.so.6", 333 * 4096)); // the second container's libc: overlayfs's one lower inode
        Assert.Equal(used, machine.Memory.FramesInUse); // no second copy in the page cache
        Assert.NotEqual(libc, kernel.ImageFile("libm.so.6", 40 * 4096));
        Assert.Throws<ArgumentException>(() => kernel.ImageFile("libc.so.6", 4096));
    }

    [Fact]
    public void Dev_zero_fills_the_count_asked_for_and_dev_null_reads_empty_and_swallows_writes()
    {
        var sim = new Simulator(1);
        LinuxKernel kernel = null!;
        _ = new Machine(sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = 64UL << 20 },
            m => kernel = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
        int zero = kernel.Files.CreateDevice("/dev/zero", CharacterDevice.Zero);
        int sink = kernel.Files.CreateDevice("/dev/null", CharacterDevice.Null);
        var program = new Script(s => Body(s));
        IEnumerable<Op> Body(Script s)
        {
            s.PendingArgument = zero;
            yield return Call(SyscallNumber.Open);            // fd 3
            s.PendingArgument = sink;
            yield return Call(SyscallNumber.Open);            // fd 4
            s.PendingCount = 100;
            s.PendingArgument = 3;
            yield return Call(SyscallNumber.Read);
            s.PendingArgument = 4;
            yield return Call(SyscallNumber.Read);
            yield return Call(SyscallNumber.Write);
            yield return Call(SyscallNumber.Exit);
        }
        kernel.Start(program, [new MemoryRegion("data", 0x60_0000, 1, Writable: true)]);
        sim.Run(Sim.Engine.Time.Tick.FromMilliseconds(10));
        Assert.Equal([3L, 4, 100, 0, 100], program.Results);
        Assert.Throws<ArgumentOutOfRangeException>(() => kernel.Files.CreateDevice("/dev/none", CharacterDevice.None));
    }
}
