using Sim.Engine.Statistics;

namespace Sim.Models.Kernel;

/// <summary>
/// Voluntary context switches as Linux counts them: a task that leaves its CPU because it blocked
/// (on a datagram, a disk read, a timer, a futex, a child) adds one to its <c>nvcsw</c>, whether
/// another task or the idle task runs next (__schedule in kernel/sched/core.c; shown as
/// <c>voluntary_ctxt_switches</c> in <c>/proc/PID/status</c> and as cswch/s by <c>pidstat -w</c>).
/// A yield or a preemption is involuntary and not counted here. The kernel's
/// <c>context_switches</c> counts something else: switches from one process to another, idle left
/// out. Counted only where a workload asks for it (a workload file's service does, for
/// <c>virtsim workload check</c>), so that other runs' statistics stay as they were.
/// </summary>
public sealed partial class LinuxKernel
{
    private Counter? _voluntarySwitches;

    /// <summary>Counts voluntary switches, summed over the kernel's processes, in <c>.kernel.sched voluntary_switches</c>. Before the run; again is a no-op.</summary>
    public void CountVoluntarySwitches()
    {
        _voluntarySwitches ??= _platform.Sim.Stats.Group(_platform.Name + ".kernel.sched")
            .Counter("voluntary_switches", "count", "switches away from a task that blocked (nvcsw), to another task or to idle");
    }
}
