using Sim.Models.Cpu;
using Sim.Workloads;

namespace Sim.Experiments.Runs;

/// <summary>
/// One guest's share of a consolidated run: its name (vmN), the context its virtual CPU ran in,
/// its workload's outcome up to the end of its workload, its figures of merit and its cycles by
/// category (with <see cref="CycleCategory.Descheduled"/>, the time it waited for its core).
/// </summary>
public sealed record GuestResult(
    string Name,
    string CorePath,
    WorkloadContext Context,
    WorkloadOutcome Outcome,
    IReadOnlyList<Metric> FiguresOfMerit,
    IReadOnlyDictionary<CycleCategory, long> CyclesByCategory);
