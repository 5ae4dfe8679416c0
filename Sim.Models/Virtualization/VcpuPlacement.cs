namespace Sim.Models.Virtualization;

/// <summary>
/// Where a virtual machine's virtual CPU runs and what share of its core it gets: the logical CPU
/// it is pinned to (xl vcpu-pin, or libvirt's vcpupin; null for the next core in turn) and its
/// credit-scheduler weight (xl sched-credit -w).
/// </summary>
public sealed record VcpuPlacement(int? Cpu = null, int Weight = VcpuPlacement.DefaultWeight)
{
    /// <summary>Xen credit's default weight (CSCHED_DEFAULT_WEIGHT in xen/common/sched_credit.c).</summary>
    public const int DefaultWeight = 256;

    /// <summary>The largest weight xl sched-credit takes (weights are 1 to 65535).</summary>
    public const int MostWeight = 65535;
}
