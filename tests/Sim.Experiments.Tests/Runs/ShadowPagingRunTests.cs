using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>type1 on the Pentium 4, which has no EPT: VT-x with shadow page tables.</summary>
public class ShadowPagingRunTests
{
    private static readonly HardwareProfile P4 = HardwareProfiles.Pentium4672;
    private static readonly VirtualizationAxes Type1 = VirtualizationAxes.ForPreset("type1", P4);

    private static WorkloadRunResult Run(IWorkload workload, long size, VirtualizationAxes? axes = null, MonitorParameters? parameters = null) =>
        WorkloadRun.Run(P4, workload, size, seed: 1, axes: axes ?? Type1, parameters: parameters);

    /// <summary>Every guest page-table write traced, as VMware's monitors did (type1's own shadow MMU is KVM's, which lets leaf tables out of sync).</summary>
    private static readonly MonitorParameters Traced = new(UnsyncShadowPages: false, ShadowPrefetch: false);

    private static double Shadow(WorkloadRunResult r, string statistic) => r.Stat("host.hypervisor.shadow", statistic);

    [Theory]
    [InlineData("syscall")]
    [InlineData("callret")]
    [InlineData("divzero")] // #DE is not in the exception bitmap
    public void These_nanobenchmarks_make_no_exit_beyond_the_first_touches(string name)
    {
        WorkloadRunResult small = Run(Nanobenchmark.Get(name), 100), large = Run(Nanobenchmark.Get(name), 200);
        Assert.Equal(small.Exits.Sum(e => e.Count), large.Exits.Sum(e => e.Count)); // only the hidden faults of the code and stack pages
        Assert.All(large.Exits, e => Assert.Equal(ExitReason.ExceptionOrNmi, e.Reason));
    }

    [Theory]
    [InlineData("in", ExitReason.IoInstruction)]
    [InlineData("cr8wr", ExitReason.ControlRegisterAccess)] // no TPR shadow under these controls
    public void Each_iteration_exits_once_for_its_instruction(string name, ExitReason reason)
    {
        WorkloadRunResult small = Run(Nanobenchmark.Get(name), 100), large = Run(Nanobenchmark.Get(name), 200);
        double Count(WorkloadRunResult r) => r.Stat("host.cpu0", "vm_exits::" + reason);
        Assert.Equal(100, Count(large) - Count(small));
        Assert.Equal(200, Count(large));
    }

    [Fact]
    public void Traced_a_guest_page_fault_costs_three_exits_the_true_fault_the_page_table_write_and_the_hidden_fault()
    {
        WorkloadRunResult small = Run(Nanobenchmark.Get("pgfault"), 100, parameters: Traced), large = Run(Nanobenchmark.Get("pgfault"), 200, parameters: Traced);
        double Delta(string s) => Shadow(large, s) - Shadow(small, s);
        Assert.Equal(100, Delta("guest_faults"));
        Assert.Equal(100, Delta("page_table_writes"));
        Assert.Equal(100, Delta("hidden_faults"));
        Assert.Equal(300, large.Stat("host.cpu0", "vm_exits::ExceptionOrNmi") - small.Stat("host.cpu0", "vm_exits::ExceptionOrNmi"));
        // Every page fault the hardware raised exited (#PF is in the exception bitmap); the guest saw only the injected one.
        Assert.Equal(300, large.Stat("host.cpu0", "exceptions::PageFault") - small.Stat("host.cpu0", "exceptions::PageFault"));
    }

    [Fact]
    public void Traced_a_write_to_a_live_page_table_entry_is_caught_and_emulated()
    {
        WorkloadRunResult r = Run(Nanobenchmark.Get("ptemod"), 100, parameters: Traced);
        Assert.Equal(99, Shadow(r, "page_table_writes")); // every store but the first iteration's touch
        Assert.True(r.CyclesByCategory[CycleCategory.Hypervisor] > r.CyclesByCategory[CycleCategory.Kernel]);
    }

    [Fact]
    public void Out_of_sync_a_guest_page_fault_costs_two_exits_the_true_fault_and_the_hidden_fault()
    {
        WorkloadRunResult small = Run(Nanobenchmark.Get("pgfault"), 100), large = Run(Nanobenchmark.Get("pgfault"), 200);
        double Delta(string s) => Shadow(large, s) - Shadow(small, s);
        Assert.Equal(100, Delta("guest_faults"));
        Assert.Equal(0, Delta("page_table_writes")); // the handler's write of the present bit goes to a table out of sync: no exit
        Assert.Equal(100, Delta("hidden_faults"));
        Assert.Equal(200, large.Stat("host.cpu0", "vm_exits::ExceptionOrNmi") - small.Stat("host.cpu0", "vm_exits::ExceptionOrNmi"));
        Assert.True(Shadow(large, "tables_unsynced") >= 1);
    }

    [Fact]
    public void Out_of_sync_only_the_first_write_to_a_live_page_table_exits()
    {
        WorkloadRunResult small = Run(Nanobenchmark.Get("ptemod"), 100), large = Run(Nanobenchmark.Get("ptemod"), 200);
        Assert.Equal(0, Shadow(large, "page_table_writes"));
        Assert.Equal(1, Shadow(large, "tables_unsynced")); // the first store let its table out of sync; the rest never exit
        Assert.Equal(small.Exits.Sum(e => e.Count), large.Exits.Sum(e => e.Count));
    }

    [Fact]
    public void Fork_under_shadow_paging_is_dominated_by_page_table_write_exits_and_every_cycle_is_accounted()
    {
        WorkloadRunResult native = Run(new ForkWait(), 20, VirtualizationAxes.Native);
        WorkloadRunResult shadow = Run(new ForkWait(), 20);
        Assert.Equal(shadow.Outcome.CoreCycles, (ulong)shadow.CyclesByCategory.Values.Sum());
        Assert.True(Shadow(shadow, "page_table_writes") > 20 * 100); // copying and write-protecting the parent's tables, tearing down the child's
        Assert.True(Shadow(shadow, "cr3_cache_hits") > 0);
        Assert.True(shadow.Outcome.SimulatedSeconds > 5 * native.Outcome.SimulatedSeconds);
        Assert.Equal(20, shadow.Stat("vm0.kernel", "forks"));
    }

    [Fact]
    public void Without_VPIDs_every_transition_empties_the_TLBs()
    {
        WorkloadRunResult r = Run(Nanobenchmark.Get("in"), 100);
        Assert.True(r.Stat("host.cpu0.tlb", "flushed_entries") > 0);
        Assert.True(r.Stat("host.cpu0.tlb", "walks") >= 2 * 100); // the handler's code and data, and the guest's, walked again after each switch
    }

    [Fact]
    public void Nested_paging_is_refused_on_the_Pentium_4_but_shadow_paging_runs_on_Nehalem_too()
    {
        Assert.Contains("needs EPT", new VirtualizationAxes(CpuVirtualization.HardwareAssist, MmuVirtualization.Nested, IoVirtualization.Emulated, Hosting.BareMetal)
            .Problem(P4), StringComparison.Ordinal);
        var shadowOnNehalem = new VirtualizationAxes(CpuVirtualization.HardwareAssist, MmuVirtualization.Shadow, IoVirtualization.Emulated, Hosting.BareMetal);
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new ForkWait(), 10, seed: 1, axes: shadowOnNehalem);
        Assert.True(r.Stat("host.hypervisor.shadow", "page_table_writes") > 0);
    }
}
