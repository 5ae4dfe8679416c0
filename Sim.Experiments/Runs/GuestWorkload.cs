using Sim.Workloads;

namespace Sim.Experiments.Runs;

/// <summary>What a guest of a consolidated run runs: a workload and its size.</summary>
public sealed record GuestWorkload(IWorkload Workload, long Size);
