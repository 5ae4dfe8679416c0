using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Monitors without VT-x on the Pentium 4: trap-and-emulate and binary translation, both with shadow paging.</summary>
public class SoftwareMonitorRunTests
{
    private static readonly HardwareProfile P4 = HardwareProfiles.Pentium4672;

    private static VirtualizationAxes Axes(CpuVirtualization cpu) => new(cpu, MmuVirtualization.Shadow, IoVirtualization.Emulated, Hosting.BareMetal);

    private static WorkloadRunResult Run(CpuVirtualization cpu, IWorkload workload, long size) => WorkloadRun.Run(P4, workload, size, seed: 1, axes: Axes(cpu));

    private static long Hole(WorkloadRunResult r, Instruction i) => r.Holes.SingleOrDefault(h => h.Instruction == i).Count;

    [Fact]
    public void Trap_and_emulate_reports_the_guest_kernels_POPF_as_a_virtualization_hole_and_runs_to_the_end()
    {
        WorkloadRunResult r = Run(CpuVirtualization.TrapAndEmulate, new ForkWait(), 10);
        Assert.Equal(10, r.Stat("vm0.kernel", "forks"));
        Assert.True(Hole(r, Instruction.Popf) > 0);     // local_irq_restore in the guest kernel's paths
        Assert.True(Hole(r, Instruction.Pushf) > 0);
        Assert.True(Hole(r, Instruction.Iret) > 0);     // returns from the guest's exception handlers
        Assert.Equal(Hole(r, Instruction.Popf), r.Interceptions.Single(i => i.Instruction == Instruction.Cli).Count); // each CLI trapped, each POPF after it did not
        Assert.Equal(0, r.Interceptions.SingleOrDefault(i => i.Instruction == Instruction.Popf).Count);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void Natively_and_under_binary_translation_or_VT_x_the_same_kernel_meets_no_hole()
    {
        Assert.Empty(WorkloadRun.Run(P4, new ForkWait(), 10, seed: 1).Holes);
        WorkloadRunResult bt = Run(CpuVirtualization.BinaryTranslation, new ForkWait(), 10);
        Assert.Empty(bt.Holes);
        Assert.True(bt.Interceptions.Single(i => i.Instruction == Instruction.Popf).Count > 0); // translated, so emulated
        Assert.Empty(Run(CpuVirtualization.HardwareAssist, new ForkWait(), 10).Holes);
    }

    [Fact]
    public void Binary_translation_translates_kernel_code_once_and_runs_user_code_untranslated()
    {
        IWorkload getpid = Lmbench.All.Single(l => l.Name == "lat-null"); // the Linux-like kernel's code is fetched, so it is translated
        WorkloadRunResult small = Run(CpuVirtualization.BinaryTranslation, getpid, 100);
        WorkloadRunResult large = Run(CpuVirtualization.BinaryTranslation, getpid, 200);
        double Translations(WorkloadRunResult r) => r.Stat("host.monitor.translation_cache", "translations");
        Assert.True(Translations(small) > 0);
        Assert.Equal(Translations(small), Translations(large)); // the second hundred calls found their code translated
        Assert.Equal(small.CyclesByCategory[CycleCategory.Translation], large.CyclesByCategory[CycleCategory.Translation]);
        Assert.Equal(0, Run(CpuVirtualization.TrapAndEmulate, getpid, 100).CyclesByCategory[CycleCategory.Translation]);
    }

    private static double Cache(WorkloadRunResult r, string stat) => r.Stat("host.monitor.translation_cache", stat);

    [Fact]
    public void The_translator_works_in_proportion_to_the_code_it_translates()
    {
        WorkloadRunResult getpid = Run(CpuVirtualization.BinaryTranslation, Lmbench.All.Single(l => l.Name == "lat-null"), 100);
        WorkloadRunResult fork = Run(CpuVirtualization.BinaryTranslation, new ForkWait(), 10);
        double PerLine(WorkloadRunResult r) => r.CyclesByCategory[CycleCategory.Translation] / Cache(r, "translations");
        Assert.True(Cache(fork, "translations") > Cache(getpid, "translations")); // fork runs more of the kernel
        // Each line: 16 instructions at the translator's 2,300, its set-up, the guest's code read
        // and the fragment written, and the continuation or lookup that called it: the same work a line.
        Assert.InRange(PerLine(getpid), 16 * 2300, 16 * 2300 * 1.25);
        Assert.InRange(PerLine(fork) / PerLine(getpid), 0.9, 1.1);
        // The run's report says what the translator did; a monitor without one has no such line.
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"binary translator: {Cache(fork, "translations"):N0} kernel code lines translated"),
            WorkloadRunReport.ToText([fork], "fork"), StringComparison.Ordinal);
        Assert.DoesNotContain("binary translator", WorkloadRunReport.ToText([Run(CpuVirtualization.TrapAndEmulate, new ForkWait(), 10)], "fork"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_chained_jump_costs_no_lookup_and_a_return_costs_one()
    {
        IWorkload getpid = Lmbench.All.Single(l => l.Name == "lat-null");
        WorkloadRunResult small = Run(CpuVirtualization.BinaryTranslation, getpid, 100), large = Run(CpuVirtualization.BinaryTranslation, getpid, 200);
        Assert.Equal(Cache(small, "chains"), Cache(large, "chains")); // every jump of the path was chained in the first hundred calls
        // Each further call: the monitor's entry into the system-call entry point, and that routine's return, looked up.
        Assert.Equal(2 * 100, Cache(large, "lookups") - Cache(small, "lookups"));
        WorkloadRunResult fork = Run(CpuVirtualization.BinaryTranslation, new ForkWait(), 10), forks = Run(CpuVirtualization.BinaryTranslation, new ForkWait(), 20);
        Assert.True(Cache(forks, "chains") - Cache(fork, "chains") < Cache(fork, "chains") / 10); // the loops' back edges go straight to their bodies once chained
    }

    [Fact]
    public void A_store_that_keeps_faulting_on_a_traced_page_is_retranslated_and_faults_no_more()
    {
        // ptemod rewrites a page-table entry every iteration (the first touches the page instead).
        WorkloadRunResult small = Run(CpuVirtualization.BinaryTranslation, Nanobenchmark.Get("ptemod"), 20), large = Run(CpuVirtualization.BinaryTranslation, Nanobenchmark.Get("ptemod"), 40);
        Assert.Equal(TranslationCache.AdaptAfterFaults, small.Stat("host.monitor.shadow", "page_table_writes")); // traced, faulting, until adapted
        Assert.Equal(1, Cache(small, "retranslations"));
        Assert.Equal(small.Stat("host.cpu0", "exceptions::PageFault"), large.Stat("host.cpu0", "exceptions::PageFault")); // no fault after it
        Assert.Equal(20, Cache(large, "adapted_writes") - Cache(small, "adapted_writes")); // each further write a callout
        WorkloadRunResult trapped = Run(CpuVirtualization.TrapAndEmulate, Nanobenchmark.Get("ptemod"), 20), trappedLarge = Run(CpuVirtualization.TrapAndEmulate, Nanobenchmark.Get("ptemod"), 40);
        Assert.Equal(39, trappedLarge.Stat("host.monitor.shadow", "page_table_writes")); // a monitor without a translator traps every one
        Assert.True(large.Outcome.CoreCycles - small.Outcome.CoreCycles < (trappedLarge.Outcome.CoreCycles - trapped.Outcome.CoreCycles) / 2); // a callout is cheaper than a fault
    }

    /// <summary>A kernel-mode loop that, at iteration <c>Size / 2</c>, writes a word of its own code (self-modifying code).</summary>
    private sealed class SelfModifyingLoop : IWorkload
    {
        public string Name => "self-modifying-loop";

        public string Description => "a kernel-mode loop that rewrites its own code once";

        public int Cpl => 0;

        public IReadOnlyList<string> FigureNames => [];

        public void Prepare(WorkloadContext context)
        {
        }

        public IOpStream CreateStream(WorkloadContext context)
        {
            ulong code = Sim.Models.Kernel.MinimalKernel.DirectMapBase + context.Memory.AllocateFrame();
            return new GeneratedStream(context.Size, 3, (i, step) => step switch
            {
                0 => Op.Fetch(code, i == 0 ? ControlTransfer.DirectCall : ControlTransfer.DirectJump),
                1 => i == context.Size / 2 ? Op.Store(code + 8) : Op.Alu(1),
                _ => Op.Branch(1),
            });
        }

        public IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome) => [];
    }

    [Fact]
    public void A_write_to_translated_code_drops_its_translation_and_the_code_is_translated_again()
    {
        WorkloadRunResult r = Run(CpuVirtualization.BinaryTranslation, new SelfModifyingLoop(), 20);
        Assert.Equal(1, Cache(r, "invalidations"));
        WorkloadRunResult untouched = Run(CpuVirtualization.BinaryTranslation, Nanobenchmark.Get("rdtsc"), 20);
        Assert.Equal(0, Cache(untouched, "invalidations"));
        // The loop's line, translated again after the write (the kernel's paths it reaches are the same in both runs).
        Assert.Equal(Cache(untouched, "translations") + 1, Cache(r, "translations"));
    }

    [Fact]
    public void Translated_code_is_fetched_from_the_translation_cache_and_its_footprint_reaches_the_caches()
    {
        IWorkload getpid = Lmbench.All.Single(l => l.Name == "lat-null");
        WorkloadRunResult bt = Run(CpuVirtualization.BinaryTranslation, getpid, 200), te = Run(CpuVirtualization.TrapAndEmulate, getpid, 200);
        double Fetches(WorkloadRunResult r) => r.Stat("host.cpu0.l1i", "hits") + r.Stat("host.cpu0.l1i", "misses");
        Assert.True(Fetches(bt) > Fetches(te)); // fragments are longer than the guest's lines and cross line boundaries, and the lookups run code of their own
        double HiddenFaults(WorkloadRunResult r) => r.Stat("host.monitor.shadow", "hidden_faults");
        Assert.True(HiddenFaults(bt) < HiddenFaults(te)); // the guest's kernel text is no longer fetched through the shadow page tables
    }

    [Theory]
    [InlineData(CpuVirtualization.TrapAndEmulate)]
    [InlineData(CpuVirtualization.BinaryTranslation)]
    public void A_system_call_goes_through_the_monitor_to_the_guest_kernel_and_back(CpuVirtualization cpu)
    {
        WorkloadRunResult small = Run(cpu, Nanobenchmark.Get("syscall"), 100), large = Run(cpu, Nanobenchmark.Get("syscall"), 200);
        Assert.Equal(100, large.Stat("host.monitor", "reflections") - small.Stat("host.monitor", "reflections"));
        long Sysrets(WorkloadRunResult r) => r.Interceptions.Single(i => i.Instruction == Instruction.Sysret).Count;
        Assert.Equal(100, Sysrets(large) - Sysrets(small));
        WorkloadRunResult native = WorkloadRun.Run(P4, Nanobenchmark.Get("syscall"), 100, seed: 1);
        Assert.True(small.FiguresOfMerit.Single().Value > 3 * native.FiguresOfMerit.Single().Value);
    }

    [Fact]
    public void Under_trap_and_emulate_a_privileged_instruction_costs_a_fault_and_under_translation_a_cheaper_callout()
    {
        double PerIteration(CpuVirtualization cpu) => Run(cpu, Nanobenchmark.Get("cr8wr"), 200).FiguresOfMerit.Single().Value;
        WorkloadRunResult te = Run(CpuVirtualization.TrapAndEmulate, Nanobenchmark.Get("in"), 200), bt = Run(CpuVirtualization.BinaryTranslation, Nanobenchmark.Get("in"), 200);
        Assert.Equal(200, te.Interceptions.Single(i => i.Instruction == Instruction.In).Count);
        Assert.Equal(200, bt.Interceptions.Single(i => i.Instruction == Instruction.In).Count);
        Assert.True(te.CyclesByCategory[CycleCategory.Hypervisor] > bt.CyclesByCategory[CycleCategory.Hypervisor]); // the #GP's delivery and the decode
        Assert.True(PerIteration(CpuVirtualization.TrapAndEmulate) > PerIteration(CpuVirtualization.BinaryTranslation));
    }

    [Fact]
    public void RDTSC_costs_most_by_trap_less_by_callout_and_least_emulated_in_the_translation_cache()
    {
        Nanobenchmark rdtsc = Nanobenchmark.Get("rdtsc");
        double Cost(CpuVirtualization cpu, bool inline = true) =>
            Sim.Experiments.Calibration.NanobenchmarkRunner.Measure(P4, rdtsc, 100, Axes(cpu), new MonitorParameters(InlineEmulation: inline)).CyclesPerOperation;
        double native = Sim.Experiments.Calibration.NanobenchmarkRunner.Measure(P4, rdtsc, 100).CyclesPerOperation;
        double trap = Cost(CpuVirtualization.TrapAndEmulate), callout = Cost(CpuVirtualization.BinaryTranslation, inline: false), inCache = Cost(CpuVirtualization.BinaryTranslation);
        // The ordering of [AA06]'s 2,030, 1,254 and 216 cycles: the trap pays the #GP's delivery
        // and an IRET, the callout neither, the inline sequence no monitor entry at all.
        Assert.True(trap > callout + P4.Timing.ExceptionDeliveryCycles, $"trap {trap:0}, callout {callout:0}");
        Assert.True(callout > inCache + 300, $"callout {callout:0}, in the cache {inCache:0}");
        Assert.True(inCache > native, $"in the cache {inCache:0}, native {native:0}"); // the real RDTSC, plus the offset's arithmetic
        Assert.Equal(100, Run(CpuVirtualization.TrapAndEmulate, rdtsc, 100).Interceptions.Single(i => i.Instruction == Instruction.Rdtsc).Count); // CR4.TSD: each one traps
    }

    [Fact]
    public void A_monitor_without_VT_x_needs_shadow_paging()
    {
        var nested = new VirtualizationAxes(CpuVirtualization.BinaryTranslation, MmuVirtualization.Nested, IoVirtualization.Emulated, Hosting.BareMetal);
        Assert.Contains("hardware-assisted", nested.Problem(HardwareProfiles.NehalemX5570), StringComparison.Ordinal);
        var native = new VirtualizationAxes(CpuVirtualization.TrapAndEmulate, MmuVirtualization.Native, IoVirtualization.Emulated, Hosting.BareMetal);
        Assert.Contains("shadow page tables", native.Problem(P4), StringComparison.Ordinal);
    }
}
