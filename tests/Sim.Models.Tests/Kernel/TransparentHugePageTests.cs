using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Kernel;
using Sim.Models.Paging;

namespace Sim.Models.Tests.Kernel;

/// <summary>Transparent huge pages in the Linux-like kernel: faulted whole, split where 4 KiB pages are needed, copied at fork, freed whole, and refused by a memory cgroup without killing anyone.</summary>
public class TransparentHugePageTests
{
    private const ulong Page = 4096;
    private const ulong Huge = 2UL << 20;
    private const ulong Heap = 0x0000_0000_4000_0000; // 1 GiB: 2 MiB-aligned

    /// <summary>An anonymous, writable region of 4 MiB (two huge pages' worth), demand-zero.</summary>
    private static readonly MemoryRegion[] Image = [new("heap", Heap, 1024, Writable: true, Populated: false)];

    private static Op Call(SyscallNumber n) => Op.Execute(Instruction.Syscall, (ulong)n);

    private static IEnumerable<Op> TouchEveryPage(ulong pages)
    {
        for (ulong i = 0; i < pages; i++)
        {
            yield return Op.Store(Heap + (i * Page));
        }
    }

    private static ulong EntryOf(NativeKernelRig rig, Process p, ulong va) => rig.Machine.Memory.ReadUInt64(p.Space.LeafEntryAddress(va)!.Value);

    [Fact]
    public void A_fault_in_a_whole_aligned_2_MiB_range_maps_one_huge_page_and_exit_gives_it_back_whole()
    {
        var rig = new NativeKernelRig(transparentHugePages: true);
        Process init = null!;
        ulong entry = 0;
        ulong framesWhileMapped = 0;
        IEnumerable<Op> Body(Script s)
        {
            foreach (Op op in TouchEveryPage(1024))
            {
                yield return op;
            }
            entry = EntryOf(rig, init, Heap + (300 * Page));
            framesWhileMapped = rig.Machine.Memory.FramesInUse;
            yield return Call(SyscallNumber.Exit);
        }
        init = rig.Kernel.Start(new Script(Body), Image);
        rig.Run();

        Assert.Equal(2, rig.Stat("host.kernel.thp", "fault_alloc"));
        Assert.Equal(0, rig.Stat("host.kernel", "demand_zero_faults")); // no 4 KiB page was needed
        Assert.Equal(2, rig.Stat("host.cpu0", "exceptions::PageFault")); // one fault per 2 MiB, not per 4 KiB
        Assert.NotEqual(0UL, entry & PageEntry.PageSize);
        Assert.Equal(0UL, (entry & PageEntry.LargeAddressMask) % Huge);
        Assert.True(framesWhileMapped - rig.KernelFrames >= 1024, "both huge pages were backed whole");
        Assert.Equal(rig.KernelFrames, rig.Machine.Memory.FramesInUse); // given back with their deposited tables: nothing leaked
    }

    [Fact]
    public void Without_THP_the_same_touches_fault_page_by_page()
    {
        var rig = new NativeKernelRig();
        rig.Kernel.Start(new Script(_ => TouchEveryPage(1024).Append(Call(SyscallNumber.Exit))), Image);
        rig.Run();

        Assert.Equal(1024, rig.Stat("host.kernel", "demand_zero_faults"));
        Assert.DoesNotContain(rig.Sim.Stats.Snapshot(rig.Sim.Now), s => s.Path == "host.kernel.thp"); // a kernel without THP registers no THP counters
    }

    [Fact]
    public void Huge_pages_take_the_walks_off_random_accesses_over_a_large_region()
    {
        static (double Walks, double References) Run(bool thp)
        {
            var rig = new NativeKernelRig(memoryBytes: 128UL << 20, transparentHugePages: thp);
            var random = new Random(7); // the test's own access pattern, fixed
            IEnumerable<Op> Body(Script s)
            {
                foreach (Op op in TouchEveryPage(8192)) // 32 MiB: 16 huge pages, which Nehalem's 32-entry 2 MiB DTLB holds
                {
                    yield return op;
                }
                for (int i = 0; i < 20_000; i++)
                {
                    yield return Op.Load(Heap + ((ulong)random.Next(8192 * 512) * 8));
                }
                yield return Call(SyscallNumber.Exit);
            }
            rig.Kernel.Start(new Script(Body), [new("heap", Heap, 8192, Writable: true, Populated: false)]);
            rig.Run();
            return (rig.Stat("host.cpu0.tlb", "walks"), rig.Stat("host.cpu0.tlb", "walk_references"));
        }
        (double smallWalks, double smallReferences) = Run(thp: false);
        (double hugeWalks, double hugeReferences) = Run(thp: true);

        Assert.True(hugeWalks * 20 < smallWalks, $"{hugeWalks} walks with THP against {smallWalks} without");
        Assert.True(hugeReferences * 20 < smallReferences, $"{hugeReferences} walk references with THP against {smallReferences} without");
    }

    [Fact]
    public void A_write_to_a_huge_page_shared_after_fork_splits_it_and_copies_one_page_and_the_last_owner_reuses_it_whole()
    {
        var rig = new NativeKernelRig(transparentHugePages: true);
        Process init = null!;
        ulong original = 0, childEntry = 0, childNeighbour = 0, parentBefore = 0, parentAfter = 0;
        IEnumerable<Op> Parent(Script s)
        {
            yield return Op.Store(Heap);
            original = EntryOf(rig, init, Heap) & PageEntry.LargeAddressMask;
            yield return Call(SyscallNumber.Fork);
            parentBefore = EntryOf(rig, init, Heap); // the child has run first, written and exited
            yield return Op.Store(Heap + (5 * Page));
            parentAfter = EntryOf(rig, init, Heap);
            yield return Call(SyscallNumber.Wait4);
            yield return Call(SyscallNumber.Exit);
        }
        IEnumerable<Op> Child(Script s)
        {
            yield return Op.Store(Heap + (3 * Page));
            childEntry = EntryOf(rig, rig.Kernel.Current!, Heap + (3 * Page));
            childNeighbour = EntryOf(rig, rig.Kernel.Current!, Heap + (4 * Page));
            yield return Call(SyscallNumber.Exit);
        }
        init = rig.Kernel.Start(new Script(Parent, () => new Script(Child)), Image);
        rig.Run();

        Assert.Equal(1, rig.Stat("host.kernel.thp", "split_pmd")); // the child's mapping only
        Assert.Equal(0UL, childEntry & PageEntry.PageSize); // a 4 KiB entry now
        Assert.NotEqual(original + (3 * Page), childEntry & PageEntry.AddressMask); // the page written was copied
        Assert.Equal(original + (4 * Page), childNeighbour & PageEntry.AddressMask); // its neighbours still map the huge page's frames
        Assert.Equal(0UL, childNeighbour & PageEntry.Writable); // read-only: still shared then
        Assert.NotEqual(0UL, parentBefore & PageEntry.PageSize);
        Assert.Equal(0UL, parentBefore & PageEntry.Writable); // write-protected by the fork
        Assert.NotEqual(0UL, parentAfter & PageEntry.PageSize); // the sole owner again: made writable whole, not split
        Assert.NotEqual(0UL, parentAfter & PageEntry.Writable);
        Assert.Equal(original, parentAfter & PageEntry.LargeAddressMask);
        Assert.Equal(2, rig.Stat("host.kernel", "copy_on_write_faults"));
        Assert.Equal(rig.KernelFrames, rig.Machine.Memory.FramesInUse);
    }

    [Fact]
    public void Mprotect_ending_inside_a_huge_page_splits_it_and_write_protects_only_the_range()
    {
        var rig = new NativeKernelRig(transparentHugePages: true);
        Process init = null!;
        ulong inside = 0, beyond = 0;
        IEnumerable<Op> Body(Script s)
        {
            yield return Op.Store(Heap);
            s.PendingArgument = (long)Heap;
            s.PendingSecondArgument = (long)(16 * Page);
            s.PendingCount = LinuxKernel.ProtRead;
            yield return Call(SyscallNumber.Mprotect);
            inside = EntryOf(rig, init, Heap + (15 * Page));
            beyond = EntryOf(rig, init, Heap + (16 * Page));
            yield return Op.Store(Heap + (16 * Page)); // still writable
            yield return Call(SyscallNumber.Exit);
        }
        init = rig.Kernel.Start(new Script(Body), Image);
        rig.Run();

        Assert.Equal(1, rig.Stat("host.kernel.thp", "split_pmd"));
        Assert.Equal(0UL, inside & (PageEntry.PageSize | PageEntry.Writable));
        Assert.Equal(PageEntry.Writable, beyond & (PageEntry.PageSize | PageEntry.Writable));
        Assert.Equal(0L, ((Script)init.Program).Results[0]);
    }

    [Fact]
    public void A_container_whose_limit_cannot_take_a_huge_page_falls_back_to_small_pages_and_kills_no_one()
    {
        var rig = new NativeKernelRig(transparentHugePages: true);
        Container container = rig.Kernel.AddContainer(new ContainerConfiguration(MemoryLimitBytes: 64 * Page));
        var program = new Script(_ => TouchEveryPage(10).Append(Call(SyscallNumber.Exit)));
        rig.Kernel.Start(program, Image, container);
        rig.Run();

        Assert.Equal(0, rig.Stat("host.kernel.thp", "fault_alloc"));
        Assert.Equal(1, rig.Stat("host.kernel.thp", "fault_fallback")); // the first fault's; its 4 KiB page brought a page table, so no later fault could take a huge page there
        Assert.Equal(10, rig.Stat("host.kernel", "demand_zero_faults"));
        Assert.Equal(0, rig.Stat("host.kernel.container", "oom_kills"));
        Assert.Equal(10 * Page, container.PeakChargedBytes);
        Assert.Equal(0UL, container.ChargedBytes);
    }

    [Fact]
    public void A_container_charged_for_a_huge_page_is_charged_all_512_pages_and_uncharged_at_exit()
    {
        var rig = new NativeKernelRig(transparentHugePages: true);
        Container container = rig.Kernel.AddContainer(ContainerConfiguration.Default);
        rig.Kernel.Start(new Script(_ => TouchEveryPage(1).Append(Call(SyscallNumber.Exit))), Image, container);
        rig.Run();

        Assert.Equal(Huge, container.PeakChargedBytes);
        Assert.Equal(0UL, container.ChargedBytes);
    }

    [Fact]
    public void Huge_page_runs_are_deterministic()
    {
        static string Snapshot()
        {
            var rig = new NativeKernelRig(transparentHugePages: true);
            rig.Kernel.Start(new Script(_ => TouchEveryPage(1024).Append(Call(SyscallNumber.Exit))), Image);
            rig.Run();
            return string.Join('\n', rig.Sim.Stats.Snapshot(rig.Sim.Now).Select(s => $"{s.Path}/{s.Statistic}={s.Value}"));
        }
        Assert.Equal(Snapshot(), Snapshot());
    }

    [Fact]
    public void THP_is_turned_on_before_the_first_process_only()
    {
        var rig = new NativeKernelRig();
        rig.Kernel.Start(new Script(_ => [Call(SyscallNumber.Exit)]), Image);
        Assert.Throws<InvalidOperationException>(() => rig.Kernel.EnableTransparentHugePages());
    }

    [Fact]
    public void Khugepaged_collapses_small_pages_into_a_huge_page_once_a_2_MiB_run_is_free_zeroing_what_was_never_touched()
    {
        var rig = new NativeKernelRig(transparentHugePages: true, khugepagedSleepMilliseconds: 10);
        // Memory fragmented: every free 2 MiB run taken, and one given back as 512 single frames, so a fault finds small pages only.
        var held = new List<ulong>();
        while (rig.Machine.Memory.TryAllocateLargeFrame(0, out ulong run))
        {
            held.Add(run);
        }
        for (ulong offset = 0; offset < Huge; offset += Page)
        {
            rig.Machine.Memory.FreeFrame(held[^1] + offset);
        }
        held.RemoveAt(held.Count - 1);
        Process init = null!;
        ulong small = 0, collapsed = 0;
        IEnumerable<Op> Body(Script s)
        {
            foreach (Op op in TouchEveryPage(3))
            {
                yield return op;
            }
            small = EntryOf(rig, init, Heap + Page);
            rig.Machine.Memory.FreeLargeFrame(held[0]); // a 2 MiB run free again (another process's huge page freed)
            for (int i = 0; i < 100_000; i++)
            {
                yield return Op.Alu(1_000); // 100 M instructions: several of khugepaged's 10 ms sleeps
            }
            collapsed = EntryOf(rig, init, Heap + Page);
            yield return Call(SyscallNumber.Exit);
        }
        rig.Kernel.StartTimer(vector: 236, initialCount: 400_000); // 4 ms at 100 MHz: Linux's 250 Hz tick
        init = rig.Kernel.Start(new Script(Body), Image);
        rig.Run();

        Assert.Equal(1, rig.Stat("host.kernel.thp", "fault_fallback")); // the first fault found no 2 MiB run; its table kept the range small
        Assert.Equal(3, rig.Stat("host.kernel", "demand_zero_faults"));
        Assert.Equal(0UL, small & PageEntry.PageSize);
        Assert.Equal(1, rig.Stat("host.kernel.thp", "collapse_alloc"));
        Assert.NotEqual(0UL, collapsed & PageEntry.PageSize); // one huge page now, the 509 pages never touched zeroed into it
        Assert.NotEqual(0UL, collapsed & PageEntry.Writable);
        Assert.True(rig.Stat("host.kernel.thp", "khugepaged_full_scans") >= 1);
    }
}
