using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Platform;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Experiments.Comparisons;

/// <summary>
/// One workload under native and every preset, on the same profile, size and seed: what
/// <c>virtsim compare</c> runs. A preset the profile cannot run, or whose model is not built yet,
/// is kept as a row that says why instead of being dropped.
/// </summary>
public static class PresetComparison
{
    /// <summary>Runs every preset (in parallel: each run is its own deterministic simulation, so the results do not depend on the order).</summary>
    /// <param name="done">Hears of each preset's run as it ends (how many of how many, and which).</param>
    public static IReadOnlyList<PresetOutcome> Run(HardwareProfile profile, IWorkload workload, long size, ulong seed, MachineConfiguration configuration,
        Action<int, int, string>? done = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(configuration);
        var outcomes = new PresetOutcome[VirtualizationAxes.Presets.Count];
        int finished = 0;
        Parallel.For(0, outcomes.Length, i =>
        {
            string preset = VirtualizationAxes.Presets[i];
            outcomes[i] = PresetOutcome.Of(preset, VirtualizationAxes.ForPreset(preset, profile), profile, workload, size, seed, configuration);
            done?.Invoke(Interlocked.Increment(ref finished), outcomes.Length, preset);
        });
        return outcomes;
    }
}

/// <summary>One preset's run, or why it did not run.</summary>
public sealed record PresetOutcome(string Preset, VirtualizationAxes Axes, WorkloadRunResult? Result, string? NotRun)
{
    /// <summary>Runs <paramref name="workload"/> under <paramref name="axes"/>, named <paramref name="name"/>, or records why it cannot run there.</summary>
    public static PresetOutcome Of(string name, VirtualizationAxes axes, HardwareProfile profile, IWorkload workload, long size, ulong seed, MachineConfiguration configuration) =>
        WorkloadRun.Problem(profile, workload, axes) is { } problem
            ? new PresetOutcome(name, axes, null, problem)
            : new PresetOutcome(name, axes, WorkloadRun.Run(profile, workload, size, seed, configuration, axes), null);

    /// <summary>Simulated time to do the same work, relative to native (the native row is 1).</summary>
    public double? SlowdownAgainst(PresetOutcome native) =>
        Result is null || native.Result is null ? null : Result.Outcome.SimulatedSeconds / native.Result.Outcome.SimulatedSeconds;
}
