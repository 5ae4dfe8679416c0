namespace Sim.Workloads;

/// <summary>What a run measured that a workload's figures of merit are made of (cycles of the core that ran it; idle cycles are those halted).</summary>
public sealed record WorkloadOutcome(double SimulatedSeconds, ulong CoreCycles, long Instructions, ulong IdleCycles = 0);
