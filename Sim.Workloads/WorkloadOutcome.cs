namespace Sim.Workloads;

/// <summary>What a run measured that a workload's figures of merit are made of (cycles of the core that ran it; idle cycles are those halted).</summary>
public sealed record WorkloadOutcome(double SimulatedSeconds, ulong CoreCycles, long Instructions, ulong IdleCycles = 0)
{
    /// <summary>A rate: <paramref name="count"/> things done over the simulated time.</summary>
    public double PerSecond(double count) => count / SimulatedSeconds;

    /// <summary>The mean time of one of <paramref name="count"/> things done one after another, in microseconds.</summary>
    public double MicrosecondsEach(double count) => SimulatedSeconds / count * 1e6;
}
