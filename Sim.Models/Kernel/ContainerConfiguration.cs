namespace Sim.Models.Kernel;

/// <summary>
/// OS-level virtualization on the Linux-like kernel (the `oslevel` preset: LXC, Docker, OpenVZ):
/// the workload's processes run in a container of the one shared kernel. What that adds is done
/// on the paths that do it (docs/virtualization.md, "Containers"): pid translation in every pid
/// namespace level on the calls that take or give a pid, a mount-namespace step on path lookup,
/// a network-namespace step on socket calls, the memory cgroup's hierarchical charge and
/// uncharge of each user page (a locked page-counter update per level), and the CPU cgroups'
/// accounting on every context switch and tick, per level; and the memory limit, which reclaims
/// the container's page cache, then swaps its pages if the kernel has swap and the container may,
/// and only then kills the process that would exceed it (the OOM killer), as the memory cgroup
/// enforces it.
/// </summary>
/// <param name="PidNamespaceLevels">Pid namespaces the container's processes are nested in below the initial one.</param>
/// <param name="CgroupLevels">Cgroup levels between the container and the root (a Docker container: /docker/ID, 2).</param>
/// <param name="MemoryLimitBytes">The memory cgroup's limit, or null for none.</param>
/// <param name="CpuQuota">The CPU cgroup's bandwidth limit in CPUs (Docker's --cpus: cpu.cfs_quota_us over cpu.cfs_period_us), at most the kernel's CPUs, or null for none.</param>
/// <param name="Cpuset">The CPUs the container's processes may run on (cpuset.cpus, Docker's --cpuset-cpus), or null: as many CPUs as the quota needs, given to the containers in turn, or every CPU without a quota.</param>
/// <param name="MaySwap">Whether the memory cgroup may send its processes' pages to swap when it reaches its limit (cgroup v2's memory.swap.max: "max", Linux's default, or 0), in a kernel that has swap.</param>
/// <param name="Shares">The CPU cgroups' weights (cpu.shares, Docker's --cpu-shares), the k-th for the k-th container and the last for every later one; null for Linux's default, <see cref="DefaultShares"/>, for all.</param>
/// <param name="Network">How the container's network namespace reaches the NIC: a veth pair into a bridge (Docker's default) or the host's namespace.</param>
public sealed record ContainerConfiguration(int PidNamespaceLevels = 1, int CgroupLevels = 2, ulong? MemoryLimitBytes = null, double? CpuQuota = null,
    IReadOnlyList<int>? Cpuset = null, IReadOnlyList<int>? Shares = null, bool MaySwap = true, ContainerNetwork Network = ContainerNetwork.Bridge)
{
    public static readonly ContainerConfiguration Default = new();

    /// <summary>A cgroup's cpu.shares unless set, the weight of a nice-0 task (NICE_0_LOAD, kernel/sched/sched.h; Docker's --cpu-shares default).</summary>
    public const int DefaultShares = 1024;

    /// <summary>The least and most cpu.shares Linux accepts (MIN_SHARES and MAX_SHARES, kernel/sched/sched.h).</summary>
    public const int LeastShares = 2, MostShares = 1 << 18;

    /// <summary>The shares of the container made <paramref name="index"/>-th.</summary>
    public int SharesOf(int index) => Shares is { Count: > 0 } list ? list[Math.Min(index, list.Count - 1)] : DefaultShares;

    public void Validate()
    {
        if (PidNamespaceLevels is < 1 or > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(PidNamespaceLevels), PidNamespaceLevels, "Linux nests at most 32 pid namespaces.");
        }
        if (CgroupLevels is < 1 or > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(CgroupLevels), CgroupLevels, "A container's cgroup lies 1 to 16 levels below the root here.");
        }
        if (CpuQuota is { } q && !(q > 0 && q <= LinuxKernel.MostCpus))
        {
            throw new ArgumentOutOfRangeException(nameof(CpuQuota), CpuQuota, $"A CPU quota is more than 0 CPUs and at most the kernel's ({LinuxKernel.MostCpus} at most).");
        }
        if (Cpuset is { } cpus && (cpus.Count == 0 || cpus.Any(c => c is < 0 or >= LinuxKernel.MostCpus)))
        {
            throw new ArgumentOutOfRangeException(nameof(Cpuset), string.Join(",", cpus), $"A cpuset names at least one CPU, each 0 to {LinuxKernel.MostCpus - 1}.");
        }
        if (Shares is { } shares && (shares.Count == 0 || shares.Any(w => w is < LeastShares or > MostShares)))
        {
            throw new ArgumentOutOfRangeException(nameof(Shares), string.Join(",", shares), $"CPU shares are {LeastShares} to {MostShares}, at least one.");
        }
        if (MemoryLimitBytes is 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryLimitBytes), MemoryLimitBytes, "A memory limit must be positive.");
        }
    }
}
