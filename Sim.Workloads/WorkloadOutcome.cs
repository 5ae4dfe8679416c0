namespace Sim.Workloads;

/// <summary>
/// What a run measured that a workload's figures of merit are made of (cycles of the core that
/// ran it; idle cycles are those halted; user-mode cycles those of its processes' own code, the
/// rest of the busy cycles being system time).
/// </summary>
public sealed record WorkloadOutcome(double SimulatedSeconds, ulong CoreCycles, long Instructions, ulong IdleCycles = 0, ulong UserModeCycles = 0,
    ulong DescheduledCycles = 0)
{
    /// <summary>
    /// The share of the busy cycles (neither idle nor, for a virtual CPU, waiting for its core)
    /// spent outside user mode (in the kernel, and under a monitor in the monitor too): system
    /// time over user plus system time.
    /// </summary>
    public double SystemTimeShare => CoreCycles > IdleCycles + DescheduledCycles
        ? 1 - ((double)UserModeCycles / (CoreCycles - IdleCycles - DescheduledCycles)) : double.NaN;

    /// <summary>A rate: <paramref name="count"/> things done over the simulated time.</summary>
    public double PerSecond(double count) => count / SimulatedSeconds;

    /// <summary>The mean time of one of <paramref name="count"/> things done one after another, in microseconds.</summary>
    public double MicrosecondsEach(double count) => SimulatedSeconds / count * 1e6;
}
