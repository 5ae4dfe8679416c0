using System.Globalization;

namespace Sim.Experiments.Density;

/// <summary>How many guests a preset fits, what stopped it, how sure the answer is, what binds, and every probe that found it.</summary>
/// <param name="Skipped">Why the preset cannot consolidate guests of this workload (it was not searched), or null.</param>
/// <param name="Density">The most guests whose worst guest keeps the level on the mean of the seeds, within the host's memory.</param>
/// <param name="BoundBy">What stops the search: "service level", "memory", "overcommit ratio" (the VMs' memory at the study's target ratio of the host's, all of them running within the level) or "max guests".</param>
/// <param name="Low">The most guests, up to the density, whose worst guest keeps the level on the whole 95% interval (0 when no count does).</param>
/// <param name="High">The most guests, from the density up, not missing the level on the whole interval: one below the fewest guests above the density whose interval misses it (the density itself when the next count misses for sure, or when memory, the ratio or the maximum stops the search).</param>
/// <param name="ServiceLevelBound">When memory binds: the guests the service level alone would allow were the host's memory unbounded (up to the study's maximum); null otherwise.</param>
public sealed record DensityResult(string Preset, string? Skipped, int Density, string BoundBy, int MemoryBound, IReadOnlyList<DensityProbe> Probes, int Low, int High, int? ServiceLevelBound = null)
{
    /// <summary>The probe of the density itself (on the host's memory), or null when none kept the level.</summary>
    public DensityProbe? AtDensity => Probes.FirstOrDefault(p => !p.MemoryIgnored && p.Guests == Density && p.Met);

    /// <summary>The probe of the fewest guests that missed the level on the host's memory (refused ones included), or null when none did.</summary>
    public DensityProbe? FirstMiss => Probes.Where(p => !p.MemoryIgnored && !p.Met).MinBy(p => p.Guests);

    /// <summary>When memory binds, the fewest guests that missed the level with the memory unbounded: what would bind next; null otherwise.</summary>
    public DensityProbe? FirstMissUnbounded => Probes.Where(p => p.MemoryIgnored && !p.Met).MinBy(p => p.Guests);

    /// <summary>
    /// On a mixed host, one guest of each workload alone on the host (the searched workload's
    /// first, then each group's alongside, at their own levels): each guest's figure without the
    /// others, beside which the report shows the interference; empty otherwise.
    /// </summary>
    public IReadOnlyList<DensityProbe> Alone { get; init; } = [];

    /// <summary>
    /// Probes that break the search's assumption that a guest's service gets no better as guests
    /// are added: a count that kept the level above one that missed it, or a count whose worst
    /// guest's interval lies wholly on the better side of a smaller count's.
    /// </summary>
    public IReadOnlyList<string> Anomalies { get; init; } = [];

    /// <summary>
    /// The resource that binds, by mechanism: at the first count that missed the level, the host
    /// resource with the highest utilization (the one with the most demand per request, whose queue
    /// grows first), saturated or not, or the memory that refused the guests; when memory or the
    /// overcommit ratio stops the search, the host's memory at the density; null when nothing did.
    /// </summary>
    public string? Binding
    {
        get
        {
            if (FirstMiss is { } miss)
            {
                return miss.Refused is not null ? $"host.memory ({(miss.Runs.Count == 0 ? "the guests do not fit" : "exhausted as the guests ran")})"
                    : miss.Slo.OnMajorFaults ? string.Create(CultureInfo.InvariantCulture, $"host.memory (the guests wait for pages read from swap: {miss.Worst:G3} major faults/s)")
                    : miss.Use.Binding();
            }
            return BoundBy switch
            {
                "memory" => AtDensity?.Use.Resources.FirstOrDefault(u => u.Kind == "memory") is { } m
                    ? string.Create(CultureInfo.InvariantCulture, $"host.memory ({100 * m.Utilization:0}% held; one guest more does not fit)") : "host.memory (one guest more does not fit)",
                "overcommit ratio" => "the overcommit ratio (one VM more is past it)",
                _ => null,
            };
        }
    }

    /// <summary>The density with its interval, such as "12 (11-13 at 95%)", or "12" when every seed agreed.</summary>
    public string WithInterval => Low == Density && High == Density
        ? Density.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Density} ({Low}-{High} at 95%)");

    /// <summary>How the seeds agreed at the count above the density, such as "13 missed the level in 2 of 5 seeds"; empty when no count above was run.</summary>
    public string NextCount => Probes.FirstOrDefault(p => !p.MemoryIgnored && p.Guests == Density + 1) is { Runs.Count: > 0 } next
        ? string.Create(CultureInfo.InvariantCulture, $"{next.Guests} missed the level in {next.SeedsMissed} of {next.Runs.Count} seed{(next.Runs.Count == 1 ? "" : "s")}")
        : "";
}
