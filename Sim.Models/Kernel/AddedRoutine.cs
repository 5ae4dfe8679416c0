namespace Sim.Models.Kernel;

/// <summary>
/// Kernel code paths the model gained after the one-CPU kernel's layout was fixed: the SMP
/// kernel's own paths, the futex paths and mprotect. They are laid out in a text block of their own the
/// first time a kernel needs one (its second CPU, its first futex or mprotect call), so that a kernel that
/// never runs them keeps exactly the older layout, and its results.
/// </summary>
public enum AddedRoutine
{
    /// <summary>try_to_wake_up's work for a process placed on another CPU: ttwu_queue, enqueue_task, check_preempt_curr (kernel/sched.c).</summary>
    RemoteWakeup,

    /// <summary>load_balance from an idle CPU: find_busiest_group, find_busiest_queue, move_tasks (kernel/sched.c).</summary>
    LoadBalance,

    /// <summary>The cross-CPU call's handler for a TLB flush: generic_smp_call_function_interrupt and flush_tlb_func (kernel/smp.c, arch/x86/mm/tlb.c).</summary>
    FlushTlbFunction,

    /// <summary>
    /// futex(FUTEX_WAIT) up to the sleep: do_futex, futex_wait, futex_wait_setup (get_futex_key,
    /// hash_futex, queue_lock, get_futex_value_locked) and futex_wait_queue_me's queue_me
    /// (kernel/futex.c); the bucket's lock and the read of the word are the path's own steps.
    /// </summary>
    FutexWait,

    /// <summary>futex(FUTEX_WAKE): do_futex, futex_wake (get_futex_key, hash_futex, the walk of the bucket's chain, wake_futex) in kernel/futex.c.</summary>
    FutexWake,

    /// <summary>mprotect: sys_mprotect, mprotect_fixup (splitting the VMA) and change_protection's walk down to the page tables (mm/mprotect.c); each entry changed is a step of its own.</summary>
    Mprotect,

    /// <summary>sched_setaffinity: sys_sched_setaffinity's find_process_by_pid and cpuset_cpus_allowed, then __set_cpus_allowed_ptr under the task's run queue lock (kernel/sched.c).</summary>
    SetAffinity,

    /// <summary>A batch of pcp->batch pages moved between a CPU's free lists and its zone under the zone lock: rmqueue_bulk or free_pcppages_bulk (mm/page_alloc.c).</summary>
    ZoneBatch,

    /// <summary>sched_getaffinity: sys_sched_getaffinity's find_process_by_pid, then the task's allowed CPUs and the active ones intersected under its pi_lock (kernel/sched/core.c).</summary>
    GetAffinity,
}
