namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's code paths that only an SMP kernel has, laid out in a text block of their own
/// when secondary CPUs come up, so that a kernel of one CPU keeps exactly the one-CPU layout.
/// </summary>
public enum SmpRoutine
{
    /// <summary>try_to_wake_up's work for a process placed on another CPU: ttwu_queue, enqueue_task, check_preempt_curr (kernel/sched.c).</summary>
    RemoteWakeup,

    /// <summary>load_balance from an idle CPU: find_busiest_group, find_busiest_queue, move_tasks (kernel/sched.c).</summary>
    LoadBalance,

    /// <summary>The cross-CPU call's handler for a TLB flush: generic_smp_call_function_interrupt and flush_tlb_func (kernel/smp.c, arch/x86/mm/tlb.c).</summary>
    FlushTlbFunction,
}
