namespace Sim.Models.Virtualization;

/// <summary>
/// Where a virtual machine's virtual CPU runs and what share of its core it gets: the logical CPU
/// it is pinned to (xl vcpu-pin, or libvirt's vcpupin; null for the next core in turn) and its
/// credit-scheduler weight (xl sched-credit -w) and cap (xl sched-credit -c: the most CPU the
/// whole VM may use, in percent of one CPU, even when its cores are otherwise idle; 0 for none).
/// </summary>
public sealed record VcpuPlacement(int? Cpu = null, int Weight = VcpuPlacement.DefaultWeight, int Cap = 0)
{
    /// <summary>Xen credit's default weight (CSCHED_DEFAULT_WEIGHT in xen/common/sched_credit.c).</summary>
    public const int DefaultWeight = 256;

    /// <summary>The largest weight xl sched-credit takes (weights are 1 to 65535).</summary>
    public const int MostWeight = 65535;

    /// <summary>
    /// Each virtual CPU's share of a VM's <paramref name="cap"/>: csched_acct splits a domain's
    /// capped credit among its active virtual CPUs, rounding up; here among all
    /// <paramref name="vcpus"/> of the VM, as when every one of them is busy (assumed: the model
    /// does not redo the split as virtual CPUs block and wake).
    /// </summary>
    public static int CapOfEach(int cap, int vcpus) => cap == 0 ? 0 : (cap + vcpus - 1) / vcpus;

    /// <summary>The largest cap of a one-virtual-CPU domain: 100% of one CPU (Xen's cap is a percentage of one physical CPU, so a domain's useful caps go up to 100 per virtual CPU).</summary>
    public const int MostCap = 100;
}
