using Sim.Models.Cpu;

namespace Sim.Models.Virtualization;

/// <summary>
/// What the hypervisor's scheduler time-shares a physical core between: a virtual CPU, or under
/// a hosted hypervisor a process of the host (<see cref="HostProcess"/>) competing with the
/// virtual CPUs, as a vCPU thread competes with the host's other threads. Each has its own
/// context on the core (<see cref="Core"/>).
/// </summary>
internal abstract class SchedulingEntity(int physical)
{
    /// <summary>The context it runs in.</summary>
    public abstract Core Core { get; }

    /// <summary>The physical core it is placed on: where it was created, or where the scheduler's load balancing last moved it.</summary>
    public int Physical { get; set; } = physical;

    /// <summary>Chosen by its core's scheduler to run next, its switch path under way: no other core may steal it meanwhile.</summary>
    public bool Claimed { get; set; }

    /// <summary>Its count of moves to another core, where the load balancer may move it.</summary>
    public Sim.Engine.Statistics.Counter? Migrations { get; set; }

    /// <summary>Kept on its physical core (a virtual CPU pinned by <c>vcpu_pinning</c>, or a host process): the load balancer never moves it.</summary>
    public bool Pinned { get; init; }

    public VcpuState State { get; set; }

    /// <summary>Woken from blocking: it preempts the one running on its core at once (Xen credit's BOOST priority; CFS's wakeup preemption).</summary>
    public bool Boosted { get; set; }

    /// <summary>The cycle of its core's clock at which its current slice began.</summary>
    public ulong SliceStart { get; set; }

    /// <summary>Its share of its core against the others placed there (Xen credit's weight; 256 by default).</summary>
    public int Weight { get; init; } = VcpuPlacement.DefaultWeight;

    /// <summary>The most of its core it may use, in percent (Xen credit's cap); 0 for no cap.</summary>
    public int Cap { get; init; }

    /// <summary>
    /// Stopped by its cap: it has spent more than a period's capped credit beyond zero, and does not
    /// run, even on an idle core, until an accounting period brings its credit back to zero
    /// (csched_acct's CSCHED_FLAG_VCPU_PARKED, vcpu_pause_nosync and vcpu_unpause).
    /// </summary>
    public bool Parked { get; set; }

    /// <summary>Its credit, in cycles of its core: earned each accounting period by weight, burned while it runs. Below zero it is OVER, else UNDER.</summary>
    public long Credit { get; set; }

    /// <summary>Its virtual runtime under CFS, in cycles of its core: its running time scaled by 1024 over its weight.</summary>
    public long VRuntime { get; set; }

    /// <summary>The cycle up to which its running has been charged (to <see cref="Credit"/> or <see cref="VRuntime"/>).</summary>
    public ulong ChargedTo { get; set; }
}
