namespace Sim.Workloads;

/// <summary>What a run measured that a workload's figures of merit are made of.</summary>
public sealed record WorkloadOutcome(double SimulatedSeconds, ulong CoreCycles, long Instructions);
