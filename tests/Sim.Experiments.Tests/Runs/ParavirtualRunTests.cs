using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>The same Linux-like kernel paravirtualized (Xen PV): hypercalls behind its privileged operations, direct paging.</summary>
public class ParavirtualRunTests
{
    private static readonly HardwareProfile P4 = HardwareProfiles.Pentium4672;
    private static readonly VirtualizationAxes Pv = new(CpuVirtualization.Paravirtual, MmuVirtualization.Direct, IoVirtualization.Emulated, Hosting.BareMetal);

    private static WorkloadRunResult Run(IWorkload workload, long size) => WorkloadRun.Run(P4, workload, size, seed: 1, axes: Pv);

    private static double Hypercalls(WorkloadRunResult r, XenHypercall call) => r.Stat("host.monitor", "hypercalls::" + call);

    [Fact]
    public void A_paravirtual_run_makes_hypercalls_and_no_privileged_instruction_traps()
    {
        WorkloadRunResult r = Run(new ForkWait(), 10);
        Assert.Equal(10, r.Stat("vm0.kernel", "forks"));
        Assert.Equal([Instruction.Syscall], r.Interceptions.Select(i => i.Instruction)); // every interception is a hypercall
        Assert.Empty(r.Holes);
        Assert.True(Hypercalls(r, XenHypercall.MmuUpdate) > 0);
        Assert.True(Hypercalls(r, XenHypercall.MmuextOp) > 0);   // new base pointers and INVLPGs
        Assert.True(Hypercalls(r, XenHypercall.Iret) > 0);
        Assert.Equal(0, r.Stat("host.cpu0", "exceptions::GeneralProtection"));
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void Page_table_updates_are_batched_into_fewer_hypercalls_than_updates()
    {
        WorkloadRunResult r = Run(new ForkWait(), 10);
        double batches = Hypercalls(r, XenHypercall.MmuUpdate), updates = r.Stat("host.monitor", "validated_updates");
        // fork copies and write-protects the parent's entries, sent in batches of up to 32; a
        // page fault's one or two updates go alone, at the end of its path.
        Assert.True(updates > 2 * batches, $"{updates} updates in {batches} mmu_update hypercalls");
        Assert.True(r.CyclesByCategory[CycleCategory.Hypervisor] > 0);
    }

    [Fact]
    public void Fork_costs_less_under_paravirtualization_than_under_shadow_paging()
    {
        double PerFork(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "fork_wait_us").Value;
        WorkloadRunResult pv = Run(new ForkWait(), 20);
        WorkloadRunResult shadow = WorkloadRun.Run(P4, new ForkWait(), 20, seed: 1, axes: VirtualizationAxes.ForPreset("type1", P4));
        WorkloadRunResult native = WorkloadRun.Run(P4, new ForkWait(), 20, seed: 1);
        Assert.True(PerFork(pv) < PerFork(shadow));
        Assert.True(PerFork(pv) > PerFork(native));
    }

    [Fact]
    public void The_minimal_test_kernel_has_no_paravirtual_port_and_says_so()
    {
        var e = Assert.Throws<ArgumentException>(() => Run(Nanobenchmark.Get("syscall"), 10));
        Assert.Contains("no paravirtual port", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Direct_paging_and_the_paravirtual_kernel_go_together()
    {
        Assert.Contains("paravirtual kernel", new VirtualizationAxes(CpuVirtualization.HardwareAssist, MmuVirtualization.Direct, IoVirtualization.Emulated, Hosting.BareMetal)
            .Problem(P4), StringComparison.Ordinal);
        Assert.Contains("--mmu direct", (Pv with { Mmu = MmuVirtualization.Shadow }).Problem(P4), StringComparison.Ordinal);
        Assert.Null(Pv.Problem(P4));
        Assert.Null(VirtualizationAxes.ForPreset("paravirt", P4).Problem(P4)); // with paravirtual I/O
        Assert.Contains("not built yet", (Pv with { Hosting = Hosting.Hosted }).Problem(P4), StringComparison.Ordinal);
    }
}
