using Sim.Models.Cpu;
using Sim.Workloads;

namespace Sim.Experiments.Runs;

/// <summary>
/// One guest's share of a consolidated run: its name (vmN, or ctN for a container), the context
/// its virtual CPU ran in (the kernel's core, for a container), its workload's outcome up to the
/// end of its workload, its figures of merit and its cycles by category (for a virtual machine,
/// with <see cref="CycleCategory.Descheduled"/>, the time it waited for its core; for a
/// container, the shared core's, all containers together).
/// </summary>
public sealed record GuestResult(
    string Name,
    bool IsContainer,
    string CorePath,
    WorkloadContext Context,
    WorkloadOutcome Outcome,
    IReadOnlyList<Metric> FiguresOfMerit,
    IReadOnlyDictionary<CycleCategory, long> CyclesByCategory)
{
    /// <summary>The name of the workload the guest ran.</summary>
    public string Workload { get; init; } = "";

    /// <summary>The host memory the guest holds: a virtual machine's whole reserved memory; a container's peak memory-cgroup charge (its processes' pages at most at once).</summary>
    public ulong MemoryBytes { get; init; }

    /// <summary>Whether the guest's workload ended within the run's time limit (its figures of merit are NaN when not).</summary>
    public bool Finished { get; init; } = true;
}
