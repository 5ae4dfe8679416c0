using Sim.Models.Cpu;
using Sim.Models.Kernel;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Kernel;

/// <summary>Swap in the Linux-like kernel: anonymous pages written to a swap area on the disk when memory or a memory cgroup is full, read back on a major fault that waits for the disk, with their contents, and every slot and frame given back.</summary>
public class SwapTests
{
    private const ulong Page = 4096;
    private const ulong Heap = 0x0000_0000_4000_0000;
    private const ulong MiB = 1UL << 20;

    private static MemoryRegion[] HeapOf(ulong pages) => [new("heap", Heap, pages, Writable: true, Populated: false)];

    private static Op Call(SyscallNumber n) => Op.Execute(Instruction.Syscall, (ulong)n);

    /// <summary>Writes a word naming each page into it, then reads every word back in the same order (or the reverse), recording the pages whose word came back wrong; then exits.</summary>
    private static IEnumerable<Op> WriteThenReadBack(Script s, ulong pages, List<ulong> wrong, bool reverse = false)
    {
        for (ulong i = 0; i < pages; i++)
        {
            yield return Op.StoreWord(Heap + (i * Page), (uint)(i + 1));
        }
        for (ulong n = 0; n < pages; n++)
        {
            ulong i = reverse ? pages - 1 - n : n;
            yield return Op.LoadWord(Heap + (i * Page));
            if (s.LastObserved != i + 1)
            {
                wrong.Add(i);
            }
        }
        yield return Call(SyscallNumber.Exit);
    }

    [Fact]
    public void A_process_larger_than_memory_runs_to_its_end_through_swap_with_its_data_intact_and_gives_every_slot_back()
    {
        var rig = new NativeKernelRig(memoryBytes: 32 * MiB, swapBytes: 64 * MiB);
        const ulong pages = 40 * MiB / Page;
        var wrong = new List<ulong>();
        Process p = rig.Kernel.Start(new Script(s => WriteThenReadBack(s, pages, wrong)), HeapOf(pages));
        rig.Run();

        Assert.Equal(0, p.ExitCode);
        Assert.Empty(wrong);
        double outs = rig.Stat("host.kernel.swap", "pswpout"), ins = rig.Stat("host.kernel.swap", "pswpin");
        Assert.True(outs > (40 - 32) * MiB / Page, $"more than the 8 MiB that cannot fit went out ({outs} pages)");
        Assert.True(ins > 0 && ins <= outs, $"pages came back ({ins} of {outs})");
        Assert.Equal(ins, rig.Stat("host.kernel.swap", "major_faults"));
        Assert.Equal(pages, rig.Stat("host.kernel", "demand_zero_faults")); // one per page, however often a fault waited for memory
        Assert.True(rig.Stat("host.kernel.swap", "writeback_waits") > 0, "faults found memory at the watermark and waited for writes");
        Assert.Equal(0, rig.Stat("host.kernel.swap", "slots_used"));
        Assert.Equal(0, rig.Kernel.Swap!.Used);
        Assert.Equal(rig.KernelFrames, rig.Machine.Memory.FramesInUse); // nothing leaked: every page, swap-cache page and table freed
    }

    /// <summary>The major faults' latency, in ns (its mean and median), of a process of 20 MiB in 16 MiB reading its pages back last first (so that its reads, unlike its writes, are not consecutive on the disk), over <paramref name="disk"/>.</summary>
    private static (double Mean, double Median) MajorFaultLatency(DiskKind disk)
    {
        var rig = new NativeKernelRig(memoryBytes: 16 * MiB, swapBytes: 32 * MiB, disk: disk);
        const ulong pages = 20 * MiB / Page;
        rig.Kernel.Start(new Script(s => WriteThenReadBack(s, pages, [], reverse: true)), HeapOf(pages));
        rig.Run();
        return (rig.Stat("host.kernel.swap", "major_fault_latency::mean"), rig.Stat("host.kernel.swap", "major_fault_latency::p50"));
    }

    [Fact]
    public void A_major_fault_waits_for_the_disk_to_read_the_page()
    {
        (double ssdMean, double ssdMedian) = MajorFaultLatency(DiskKind.SolidState);
        (double rotatingMean, _) = MajorFaultLatency(DiskKind.Rotating);

        // The X25-E's 75 us read latency and 16 us transfer, and the fault's own work: not less, and not a queue's worth more.
        Assert.InRange(ssdMedian, 91_000, 150_000);
        Assert.True(rotatingMean > 4 * ssdMean, $"a rotating disk's seeks and rotation make swap-ins slower ({rotatingMean:F0} ns against {ssdMean:F0} ns)");
    }

    [Fact]
    public void Without_swap_the_same_process_runs_the_kernel_out_of_memory_and_says_why()
    {
        var rig = new NativeKernelRig(memoryBytes: 32 * MiB);
        const ulong pages = 40 * MiB / Page;
        rig.Kernel.Start(new Script(s => WriteThenReadBack(s, pages, [])), HeapOf(pages));

        var error = Assert.Throws<InsufficientMemoryException>(rig.Run);
        Assert.Contains("no swap", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 137)]
    public void A_container_at_its_limit_swaps_if_it_may_and_is_OOM_killed_if_it_may_not(bool maySwap, int status)
    {
        var rig = new NativeKernelRig(swapBytes: 16 * MiB);
        Container container = rig.Kernel.AddContainer(new ContainerConfiguration(MemoryLimitBytes: 4 * MiB, MaySwap: maySwap));
        const ulong pages = 8 * MiB / Page;
        var wrong = new List<ulong>();
        Process p = rig.Kernel.Start(new Script(s => WriteThenReadBack(s, pages, wrong)), HeapOf(pages), container);
        rig.Run();

        Assert.Equal(status, p.ExitCode);
        Assert.Empty(wrong);
        Assert.True(container.PeakChargedBytes <= 4 * MiB, "the limit held");
        Assert.Equal(maySwap ? 0 : 1, rig.Stat("host.kernel.container", "oom_kills"));
        Assert.Equal(maySwap, rig.Stat("host.kernel.swap", "pswpout") > 0);
        Assert.Equal(rig.Stat("host.kernel.swap", "major_faults"), container.MajorFaults); // its own, as memory.stat's pgmajfault counts them
        Assert.Equal(maySwap, container.MajorFaults > 0);
        Assert.Equal(0UL, container.ChargedBytes);
        Assert.Equal(0, rig.Kernel.Swap!.Used);
    }

    [Fact]
    public void A_container_at_its_limit_gives_up_its_page_cache_before_it_swaps()
    {
        var rig = new NativeKernelRig(swapBytes: 16 * MiB);
        int file = rig.Kernel.Files.Create("data.bin", 1 * MiB);
        Container container = rig.Kernel.AddContainer(new ContainerConfiguration(MemoryLimitBytes: 4 * MiB));
        const ulong pages = 5 * MiB / Page;
        ulong cacheWhenSwapBegan = ulong.MaxValue;
        IEnumerable<Op> Body(Script s)
        {
            s.PendingArgument = file;
            yield return Call(SyscallNumber.Open);
            s.PendingArgument = s.LastResult;
            for (ulong read = 0; read < MiB; read += Page)
            {
                yield return Call(SyscallNumber.Read); // 1 MiB of page cache, charged to the container
            }
            for (ulong i = 0; i < pages; i++)
            {
                yield return Op.StoreWord(Heap + (i * Page), (uint)i);
                if (cacheWhenSwapBegan == ulong.MaxValue && rig.Stat("host.kernel.swap", "pswpout") > 0)
                {
                    cacheWhenSwapBegan = container.CacheBytes;
                }
            }
            yield return Call(SyscallNumber.Exit);
        }
        rig.Kernel.Start(new Script(Body), HeapOf(pages), container);
        rig.Run();

        Assert.True(rig.Stat("host.kernel.swap", "pswpout") > 0, "5 MiB of heap do not fit in 4 MiB");
        Assert.True(rig.Stat("host.kernel.reclaim", "freed") >= MiB / Page, "the file's pages were reclaimed");
        Assert.Equal(0UL, cacheWhenSwapBegan); // no page went to swap while page cache was left to take
    }

    [Fact]
    public void A_child_forked_while_its_parent_has_pages_in_swap_reads_them_from_the_same_slots()
    {
        var rig = new NativeKernelRig(swapBytes: 16 * MiB);
        Container container = rig.Kernel.AddContainer(new ContainerConfiguration(MemoryLimitBytes: 2 * MiB));
        const ulong pages = 1024;
        var wrong = new List<ulong>();
        IEnumerable<Op> Child(Script s)
        {
            for (ulong i = 0; i < pages; i++)
            {
                yield return Op.LoadWord(Heap + (i * Page));
                if (s.LastObserved != i + 1)
                {
                    wrong.Add(i);
                }
            }
            yield return Call(SyscallNumber.Exit);
        }
        IEnumerable<Op> Parent(Script s)
        {
            for (ulong i = 0; i < pages; i++)
            {
                yield return Op.StoreWord(Heap + (i * Page), (uint)(i + 1));
            }
            yield return Call(SyscallNumber.Fork);
            yield return Call(SyscallNumber.Wait4);
            yield return Call(SyscallNumber.Exit);
        }
        Process parent = rig.Kernel.Start(new Script(Parent, () => new Script(Child)), HeapOf(pages), container);
        rig.Run();

        Assert.Equal(0, parent.ExitCode);
        Assert.Empty(wrong);
        Assert.True(rig.Stat("host.kernel.swap", "pswpin") > 0);
        Assert.Equal(0, rig.Kernel.Swap!.Used); // the parent's and the child's references to each slot both dropped
        Assert.Equal(rig.KernelFrames, rig.Machine.Memory.FramesInUse);
    }

    [Fact]
    public void A_base_systems_idle_daemon_pages_go_to_swap_first_and_stay_there()
    {
        var rig = new NativeKernelRig(memoryBytes: 32 * MiB, swapBytes: 64 * MiB);
        rig.Kernel.LoadBaseSystem(new BaseSystem("image", CacheBytes: 0, AnonymousBytes: 8 * MiB));
        const ulong pages = 24 * MiB / Page;
        var wrong = new List<ulong>();
        Process p = rig.Kernel.Start(new Script(s => WriteThenReadBack(s, pages, wrong)), HeapOf(pages));
        rig.Run();

        Assert.Equal(0, p.ExitCode);
        Assert.Empty(wrong);
        double left = rig.Stat("host.kernel.swap", "slots_used");
        Assert.True(left > 0 && left <= 8 * MiB / Page, $"{left} of the daemons' 2,048 pages are still in swap at the end: nothing read them back");
        Assert.Equal(rig.Stat("host.kernel.swap", "pswpout") - left, rig.Stat("host.kernel.swap", "pswpin")); // every page of the process that went out came back
    }

    [Fact]
    public void A_read_into_a_buffer_page_in_swap_brings_it_back_from_the_kernel_path_without_sleeping_there()
    {
        var rig = new NativeKernelRig(swapBytes: 16 * MiB);
        int file = rig.Kernel.Files.Create("data.bin", 16 * Page);
        Container container = rig.Kernel.AddContainer(new ContainerConfiguration(MemoryLimitBytes: 2 * MiB));
        const ulong pages = 1024;
        ulong inSwapAtRead = 0, wordAfter = 0;
        IEnumerable<Op> Body(Script s)
        {
            for (ulong i = 0; i < pages; i++)
            {
                yield return Op.StoreWord(Heap + (i * Page), (uint)(i + 1)); // 4 MiB in 2: the first pages, the read's buffer among them, go to swap
            }
            inSwapAtRead = (ulong)rig.Kernel.Swap!.Used;
            s.PendingArgument = file;
            yield return Call(SyscallNumber.Open);
            s.PendingArgument = s.LastResult;
            yield return Call(SyscallNumber.Read); // copies into the heap's first page, the model's user buffer
            yield return Op.LoadWord(Heap);
            wordAfter = s.LastObserved;
            yield return Call(SyscallNumber.Exit);
        }
        Process p = rig.Kernel.Start(new Script(Body), HeapOf(pages), container);
        rig.Run();

        Assert.True(inSwapAtRead > 0);
        Assert.Equal(0, p.ExitCode);
        Assert.Equal(4096L, ((Script)p.Program).Results[1]); // the read returned its page
        Assert.Equal(1UL, wordAfter); // the buffer page came back from swap with its word
        Assert.InRange(rig.Kernel.Swap!.Used, 0, 32); // only the slots of writes the read's reclaim started, still in flight when the run ended with the exit
    }

    [Fact]
    public void Swap_runs_are_deterministic()
    {
        static string Snapshot()
        {
            var rig = new NativeKernelRig(memoryBytes: 16 * MiB, swapBytes: 32 * MiB, disk: DiskKind.Rotating);
            const ulong pages = 20 * MiB / Page;
            rig.Kernel.Start(new Script(s => WriteThenReadBack(s, pages, [])), HeapOf(pages));
            rig.Run();
            return string.Join("\n", rig.Sim.Stats.Snapshot(rig.Sim.Now).Select(s => $"{s.Path} {s.Statistic} {s.Value:R}"));
        }

        Assert.Equal(Snapshot(), Snapshot());
    }

    [Fact]
    public void Swap_is_refused_without_a_disk_that_queues_requests_and_where_it_cannot_fit()
    {
        var ata = new NativeKernelRig();
        Assert.Throws<InvalidOperationException>(() => new NativeKernelRig(swapBytes: 16 * MiB, disk: DiskKind.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => ata.Kernel.EnableSwap(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ata.Kernel.EnableSwap(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => ata.Kernel.EnableSwap(64UL << 30));
    }
}
