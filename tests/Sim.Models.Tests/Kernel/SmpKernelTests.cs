using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Kernel;

public class SmpKernelTests
{
    internal static readonly MemoryRegion[] Image =
    [
        new("text", ExecutableImage.TextBase, 8, Writable: false),
        new("data", ExecutableImage.DataBase, 4, Writable: true),
    ];

    internal static Op Call(SyscallNumber n) => Op.Execute(Instruction.Syscall, (ulong)n);

    /// <summary>A Nehalem of <paramref name="cpus"/> cores with the Linux-like kernel on all of them (the uniprocessor build on one) and its tick running.</summary>
    internal sealed class Rig
    {
        /// <param name="timerCount">The APIC timer's count at 100 MHz between ticks (default 4 ms; shorter ticks make shorter slices, for tests of many slices).</param>
        public Rig(int cpus, uint timerCount = 400_000)
        {
            Sim = new Simulator(7);
            Machine = new Machine(Sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { Cores = cpus, MemoryBytes = 256UL << 20 },
                m => Kernel = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
            Kernel.StartTimer(vector: 236, initialCount: timerCount); // 400,000: 4 ms at 100 MHz, Linux's 250 Hz tick
            if (cpus > 1)
            {
                Kernel.BringUpSecondaryCpus(Machine);
            }
        }

        public Simulator Sim { get; }

        public Machine Machine { get; }

        public LinuxKernel Kernel { get; private set; } = null!;

        public double Stat(string path, string name) => Sim.Stats.Snapshot(Sim.Now).Single(s => s.Path == path && s.Statistic == name).Value;

        public void Run()
        {
            Sim.Run(Tick.MaxValue);
            foreach (Core core in Machine.Cores)
            {
                core.SettleIdleTime();
            }
        }
    }

    /// <summary>A CPU-bound process: <paramref name="blocks"/> blocks of 1,000 instructions, then exit.</summary>
    private static Script Busy(int blocks) => new(_ => [.. Enumerable.Repeat(Op.Alu(1_000), blocks), Call(SyscallNumber.Exit)]);

    [Fact]
    public void Four_CPU_bound_processes_on_four_CPUs_each_get_one()
    {
        var rig = new Rig(4);
        for (int p = 0; p < 4; p++)
        {
            rig.Kernel.Start(Busy(20_000), Image); // 20 M cycles each: five ticks
        }
        rig.Run();
        foreach (Core core in rig.Machine.Cores)
        {
            Assert.InRange(core.CyclesIn(CycleCategory.User), 20_000_000, 20_100_000); // one process's work on every CPU
        }
        Assert.Equal(0, rig.Stat("host.kernel", "migrations"));
        CoreMark end = rig.Kernel.WorkEnded!;
        Assert.InRange(end.Time.TotalSeconds, 20e6 / 2.93e9, 1.05 * 20e6 / 2.93e9); // together, in the time of one
        Assert.InRange(end.CyclesByCategory[CycleCategory.User], 4 * 20_000_000, 4 * 20_100_000);
    }

    [Fact]
    public void A_CPU_left_without_work_pulls_a_waiting_process_from_a_busier_one()
    {
        var rig = new Rig(2);
        rig.Kernel.Start(Busy(10_000), Image);  // CPU 0
        rig.Kernel.Start(Busy(1_000), Image);   // CPU 1, idle until then: ends early
        rig.Kernel.Start(Busy(10_000), Image);  // no CPU idle: waits on CPU 0, where its queue is
        rig.Run();
        Assert.Equal(1, rig.Stat("host.kernel", "migrations")); // CPU 1 pulled it when its own process exited
        Assert.InRange(rig.Machine.Cores[1].CyclesIn(CycleCategory.User), 11_000_000, 11_100_000);
        Assert.True(rig.Stat("host.cpu1", "lock_acquisitions") >= 2, "the balance took both run queues' locks");
    }

    [Fact]
    public void A_parent_idle_on_its_CPU_is_woken_by_a_reschedule_IPI_when_its_child_exits_on_another()
    {
        var rig = new Rig(2);
        var parent = new Script(_ => [Call(SyscallNumber.Fork), Call(SyscallNumber.Wait4), Call(SyscallNumber.Exit)], () => Busy(2_000));
        rig.Kernel.Start(parent, Image);
        rig.Run();
        Assert.Equal([2L, 2L], parent.Results.Take(2)); // fork gave the child's pid (init is 1); wait4 reaped it
        Assert.Equal(2, rig.Stat("host.kernel", "reschedule_ipis")); // the child to idle CPU 1; the parent back on idle CPU 0
        Assert.Equal(1, rig.Stat("host.cpu0.apic", "ipis_received"));
        Assert.Equal(1, rig.Stat("host.cpu1.apic", "ipis_received"));
        Assert.InRange(rig.Machine.Cores[1].CyclesIn(CycleCategory.User), 2_000_000, 2_100_000); // the child ran on CPU 1
    }

    [Fact]
    public void Runs_on_many_CPUs_are_byte_identical()
    {
        static string Run()
        {
            var rig = new Rig(4);
            for (int p = 0; p < 6; p++)
            {
                var parent = new Script(_ => [Call(SyscallNumber.Fork), Op.Alu(50_000), Call(SyscallNumber.Wait4), Call(SyscallNumber.Exit)], () => Busy(3_000 + (p * 500)));
                rig.Kernel.Start(parent, Image);
            }
            rig.Run();
            return string.Join('\n', rig.Sim.Stats.Snapshot(rig.Sim.Now).Select(s => $"{s.Path},{s.Statistic},{s.Value:R}"));
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Secondary_CPUs_come_up_once_and_only_before_any_process()
    {
        var rig = new Rig(2);
        Assert.Throws<InvalidOperationException>(() => rig.Kernel.BringUpSecondaryCpus(rig.Machine));
    }

    /// <summary>
    /// The main thread starts a thread on every other CPU (they compute), then maps, touches and
    /// unmaps a page <paramref name="rounds"/> times: the kernel cycles of its CPU.
    /// </summary>
    private static (Rig Rig, long KernelCycles) Shootdowns(int cpus, int rounds)
    {
        var rig = new Rig(cpus);
        IEnumerable<Op> Main(Script s)
        {
            for (int t = 1; t < cpus; t++)
            {
                s.PendingArgument = LinuxKernel.CloneVm | LinuxKernel.Sigchld; // a thread its creator waits for with wait4
                yield return Call(SyscallNumber.Clone);
            }
            yield return Op.Alu(200_000); // the threads start on their CPUs
            for (int r = 0; r < rounds; r++)
            {
                s.PendingArgument = 1;
                yield return Call(SyscallNumber.Mmap);
                ulong page = (ulong)s.LastResult;
                yield return Op.Store(page);
                s.PendingArgument = (long)page;
                yield return Call(SyscallNumber.Munmap);
            }
            for (int t = 1; t < cpus; t++)
            {
                yield return Call(SyscallNumber.Wait4);
            }
            yield return Call(SyscallNumber.Exit);
        }
        rig.Kernel.Start(new Script(Main, () => Busy(3_000)), Image);
        rig.Run();
        return (rig, rig.Machine.Cores[0].CyclesIn(CycleCategory.Kernel));
    }

    [Fact]
    public void A_shootdown_interrupts_every_CPU_running_a_thread_of_the_address_space_and_costs_more_with_more_of_them()
    {
        const int Rounds = 50;
        (Rig two, long kernelTwo) = Shootdowns(2, Rounds);
        (Rig four, long kernelFour) = Shootdowns(4, Rounds);
        (Rig eight, long kernelEight) = Shootdowns(8, Rounds);
        Assert.Equal(Rounds, eight.Stat("host.kernel", "tlb_shootdowns"));
        Assert.Equal(7, eight.Stat("host.kernel", "tlb_shootdown_cpus::mean"));
        Assert.Equal(Rounds, eight.Stat("host.cpu5.apic", "ipis_received") - 1, 1.0); // one reschedule IPI started its thread
        Assert.Equal(3, four.Stat("host.kernel", "clones"));
        Assert.True(kernelTwo < kernelFour && kernelFour < kernelEight, $"kernel cycles of the unmapping CPU: {kernelTwo} on 2 CPUs, {kernelFour} on 4, {kernelEight} on 8");
        Assert.Equal(7 + (Rounds * 7), eight.Stat("host.cpu0.apic", "ipis_sent")); // a reschedule IPI per thread started, then a call-function IPI per CPU per round
        Assert.Equal(1 + Rounds, two.Stat("host.cpu0.apic", "ipis_sent"));
    }

    [Fact]
    public void Mprotect_taking_write_away_splits_the_region_flushes_the_other_CPUs_and_a_later_write_kills()
    {
        var rig = new Rig(2);
        ulong page = ExecutableImage.DataBase + 4096;
        IEnumerable<Op> Main(Script s)
        {
            s.PendingArgument = LinuxKernel.CloneVm | LinuxKernel.Sigchld;
            yield return Call(SyscallNumber.Clone); // a thread computing on CPU 1, which so may hold the address space
            yield return Op.Alu(200_000);
            yield return Op.Store(page);
            foreach ((ulong start, ulong length) in new[] { (page, 4096UL), (ExecutableImage.DataBase + (100 * 4096), 4096UL), (page + 8, 4096UL) })
            {
                s.PendingArgument = (long)start;
                s.PendingSecondArgument = (long)length;
                s.PendingCount = LinuxKernel.ProtRead;
                yield return Call(SyscallNumber.Mprotect);
            }
            yield return Call(SyscallNumber.Wait4);
            yield return Op.Load(page);  // still readable
            yield return Op.Store(page); // no longer writable: SIGSEGV
            yield return Call(SyscallNumber.Exit);
        }
        var main = new Script(Main, () => Busy(3_000));
        Process process = rig.Kernel.Start(main, Image);
        rig.Run();
        Assert.Equal([2L, 0L, -12L, -22L, 2L], main.Results); // clone, mprotect, outside the region (ENOMEM), unaligned (EINVAL), wait4
        Assert.Equal(139, process.ExitCode);
        Assert.Equal(1, rig.Stat("host.kernel", "tlb_shootdowns"));
    }

    /// <summary>Device interrupts beyond each CPU's ticks and IPIs: its EOIs less those.</summary>
    private static double DeviceInterrupts(Rig rig, int cpu) =>
        rig.Stat($"host.cpu{cpu}.apic", "eois") - rig.Stat($"host.cpu{cpu}.apic", "timer_interrupts") - rig.Stat($"host.cpu{cpu}.apic", "ipis_received");

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Device_interrupts_go_to_the_CPU_their_affinity_names(int cpu)
    {
        var rig = new Rig(2);
        rig.Kernel.StartDisk();
        rig.Kernel.SetIrqAffinity(cpu);
        int file = rig.Kernel.Files.Create("data.bin", 4 * 4096);
        IEnumerable<Op> Reads(Script s)
        {
            s.PendingArgument = file;
            yield return Call(SyscallNumber.Open);
            for (int page = 0; page < 4; page++)
            {
                s.PendingArgument = 3;
                yield return Call(SyscallNumber.Read); // each page from the disk: a request and its completion interrupt
            }
            yield return Call(SyscallNumber.Exit);
        }
        rig.Kernel.Start(new Script(Reads), Image);
        rig.Run();
        Assert.Equal(4, rig.Stat("host.disk0", "sectors_read") / 8);
        Assert.True(DeviceInterrupts(rig, cpu) >= 4, $"CPU {cpu} took {DeviceInterrupts(rig, cpu)} device interrupts");
        Assert.Equal(0, DeviceInterrupts(rig, 1 - cpu));
        Assert.Throws<ArgumentOutOfRangeException>(() => rig.Kernel.SetIrqAffinity(2));
    }

    [Fact]
    public void Pages_come_from_per_CPU_lists_refilled_in_batches_under_the_shared_zone_lock()
    {
        const int Pages = 310;
        var rig = new Rig(2);
        var region = new MemoryRegion("heap", ExecutableImage.HeapBase, Pages, Writable: true, Populated: false);
        for (int p = 0; p < 2; p++)
        {
            rig.Kernel.Start(new Script(_ => [.. Enumerable.Range(0, Pages).Select(i => Op.Store(ExecutableImage.HeapBase + ((ulong)i * 4096))), Call(SyscallNumber.Exit)]), [.. Image, region]);
        }
        rig.Run();
        Assert.Equal(2 * Pages, rig.Stat("host.kernel", "demand_zero_faults"));
        // Every page a fault takes, and the page tables and frees besides: a batch per 31 on each CPU.
        Assert.InRange(rig.Stat("host.kernel", "zone_batches"), 2 * Pages / 31, 4 * Pages / 31);
    }

    [Fact]
    public void Two_CPUs_faulting_at_once_each_give_their_process_neighbouring_frames()
    {
        const int Pages = 2 * PerCpuPages.Batch;
        var rig = new Rig(2);
        var region = new MemoryRegion("heap", ExecutableImage.HeapBase, Pages, Writable: true, Populated: false);
        Process[] touchers = [.. Enumerable.Range(0, 2).Select(_ => rig.Kernel.Start(
            new Script(_ => [.. Enumerable.Range(0, Pages).Select(i => Op.Store(ExecutableImage.HeapBase + ((ulong)i * 4096))), Op.Alu(100_000_000), Call(SyscallNumber.Exit)]),
            [.. Image, region]))];
        rig.Sim.Run(Tick.FromMilliseconds(10)); // both have faulted their pages in, side by side, and compute
        foreach (Process p in touchers)
        {
            ulong[] frames = [.. Enumerable.Range(0, Pages).Select(i => rig.Machine.Memory.ReadUInt64(p.Space.LeafEntryAddress(ExecutableImage.HeapBase + ((ulong)i * 4096))!.Value) & Sim.Models.Paging.PageEntry.AddressMask)];
            int neighbours = frames.Zip(frames.Skip(1)).Count(f => f.Second == f.First + 4096);
            Assert.True(neighbours >= Pages - 3, $"{neighbours} of {Pages - 1} consecutive pages in consecutive frames"); // broken only where a batch ends
        }
    }

    [Fact]
    public void A_path_walk_on_an_SMP_kernel_takes_each_dentry_s_lock()
    {
        var rig = new Rig(2);
        int file = rig.Kernel.Files.Create("/usr/lib/libc.so", 4096);
        var walker = new Script(s => Enumerable.Range(0, 10).SelectMany(_ => { s.PendingArgument = file; return new[] { Call(SyscallNumber.Stat) }; }).Append(Call(SyscallNumber.Exit)));
        rig.Kernel.Start(walker, Image);
        rig.Run();
        Assert.True(rig.Stat("host.cpu0", "lock_acquisitions") >= 30, "three components' d_lock on each of ten walks");
    }

    [Fact]
    public void Pages_come_from_the_node_of_the_CPU_that_touches_them_first()
    {
        var rig = new Rig(5); // Nehalem: CPUs 0-3 on socket 0, CPU 4 on socket 1
        for (int p = 0; p < 4; p++)
        {
            rig.Kernel.Start(Busy(5_000), Image);
        }
        IEnumerable<Op> Toucher(Script s)
        {
            s.PendingArgument = 64;
            yield return Call(SyscallNumber.Mmap);
            ulong region = (ulong)s.LastResult;
            for (ulong page = 0; page < 64; page++)
            {
                yield return Op.Store(region + (page * 4096)); // a demand-zero fault each: the kernel clears the page from CPU 4
            }
            yield return Call(SyscallNumber.Exit);
        }
        rig.Kernel.Start(new Script(Toucher), Image); // no CPU of socket 0 idles: it starts on CPU 4
        rig.Run();
        Assert.Equal(1, rig.Machine.Memory.NodeOf(1UL << 27)); // node 1 holds the upper half of the 256 MiB
        // Every line of the cleared pages came through socket 1's controller (demanded or prefetched):
        // without first touch they would have crossed from node 0, like the kernel's text, the
        // process's task structures, which node 0 holds.
        double local = rig.Stat("host.socket1.memory_controller", "lines"), crossed = rig.Stat("host.interconnect.0to1", "lines");
        Assert.True(local >= 64 * 64, $"{local} lines from socket 1's memory: the cleared pages");
        Assert.True(crossed < local, $"{crossed} lines from socket 0's memory against {local} local");
    }
}
