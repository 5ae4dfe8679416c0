using Sim.Engine.Statistics;
using Sim.Workloads;

namespace Sim.Experiments.Density;

/// <summary>One seed's run of a density probe: the worst guest's service-level metric, the guests' mean figures, the memory each held and what the host's resources did.</summary>
/// <param name="Worst">The service-level metric of the guest furthest from the level, in the probe's unit (NaN if the workload reported none).</param>
/// <param name="MeanFigures">Each figure of merit, the mean over the guests.</param>
/// <param name="MemoryPerGuestMiB">The guests' mean host memory in MiB: a VM's reservation (what the host backed, with its EPT and per-vCPU frames, when its memory is backed on first touch, less its share of what page merging saved), a container's peak charge.</param>
/// <param name="Refused">Why this seed's guests could not run to the end (memory exhausted as they ran), or null.</param>
public sealed record ProbeRun(ulong Seed, double Worst, IReadOnlyList<Metric> MeanFigures, double MemoryPerGuestMiB, HostUse Use, string? Refused = null)
{
    /// <summary>On a mixed host, each group alongside's worst guest's metric on its own level, in the study's order (<see cref="DensityStudy.Alongside"/>); empty otherwise.</summary>
    public IReadOnlyList<double> AlongsideWorst { get; init; } = [];
}

/// <summary>What the seeds of a probe say about the service level: kept (the whole 95% interval of the worst guest's metric within the level), missed (the whole interval outside it), or too close to call.</summary>
public enum Verdict
{
    Kept,
    Missed,
    TooClose,
}

/// <summary>
/// One probe of a density search: a preset with a number of guests, run at each of the study's
/// seeds. The worst guest's service-level metric is summarised over the seeds (mean and 95%
/// Student-t interval, <see cref="ReplicationSummary"/>); the search goes by the mean
/// (<see cref="Met"/>) and the answer's interval by the <see cref="Verdict"/>.
/// </summary>
/// <param name="Refused">Why the guests could not run (they do not fit the host's memory, or exhausted it as they ran), or null when they ran.</param>
/// <param name="Unit">The service-level metric's unit.</param>
/// <param name="Runs">Each seed's run, in seed order (empty when refused before running).</param>
/// <param name="MemoryIgnored">Whether the host's memory was left unbounded for this probe: the search past the memory's bound for what the service level alone allows.</param>
public sealed record DensityProbe(string Preset, int Guests, string? Refused, string Unit, IReadOnlyList<ProbeRun> Runs, ServiceLevel Slo, bool MemoryIgnored = false)
{
    /// <summary>On a mixed host, the groups beside the searched guests, each held to its own level as they are; empty otherwise.</summary>
    public IReadOnlyList<GuestGroup> Alongside { get; init; } = [];

    /// <summary>Group <paramref name="index"/>'s worst guest's metric over the seeds: mean and 95% interval (NaN when refused).</summary>
    public ReplicationSummary AlongsideSummary(int index) => Runs.Count == 0 || Refused is not null
        ? new ReplicationSummary(0, double.NaN, double.NaN, 0.95, double.NaN)
        : ReplicationSummary.Of([.. Runs.Select(r => r.AlongsideWorst[index])]);

    /// <summary>Every level the probe holds its guests to, each with its worst guest's summary: the searched guests' first, then each group's.</summary>
    private IEnumerable<(ServiceLevel Level, ReplicationSummary Summary)> Levels =>
        Alongside.Select((g, i) => (g.Slo, AlongsideSummary(i))).Prepend((Slo, Summary));

    /// <summary>The groups whose worst guest missed its level on the mean of the seeds.</summary>
    public IEnumerable<GuestGroup> GroupsMissing => Refused is not null ? [] : Alongside.Where((g, i) => !g.Slo.IsMet(AlongsideSummary(i).Mean));

    /// <summary>The worst guest's metric over the seeds: mean and 95% interval (NaN when refused; no interval from one seed).</summary>
    public ReplicationSummary Summary { get; } = Runs.Count == 0 || Refused is not null
        ? new ReplicationSummary(0, double.NaN, double.NaN, 0.95, double.NaN)
        : ReplicationSummary.Of([.. Runs.Select(r => r.Worst)]);

    /// <summary>The mean over the seeds of the worst guest's service-level metric (NaN when refused).</summary>
    public double Worst => Summary.Mean;

    /// <summary>Whether the mean keeps the level: what the search goes by.</summary>
    public bool Met => Refused is null && Levels.All(l => l.Level.IsMet(l.Summary.Mean));

    /// <summary>How many seeds' worst guest missed the level (every seed when refused).</summary>
    public int SeedsMissed => Refused is not null ? Runs.Count : Runs.Count(r => !Slo.IsMet(r.Worst) || Alongside.Where((g, i) => !g.Slo.IsMet(r.AlongsideWorst[i])).Any());

    /// <summary>
    /// Kept, missed, or too close to call: each level judged on its interval (one seed, no
    /// interval, on its value); missed when any level is missed, kept when every level is kept.
    /// </summary>
    public Verdict Verdict
    {
        get
        {
            if (!Met && (Refused is not null || Levels.Any(l => double.IsNaN(l.Summary.Mean))))
            {
                return Verdict.Missed;
            }
            Verdict[] each = [.. Levels.Select(l => Judge(l.Level, l.Summary))];
            return each.Contains(Verdict.Missed) ? Verdict.Missed : each.All(v => v == Verdict.Kept) ? Verdict.Kept : Verdict.TooClose;
        }
    }

    private static Verdict Judge(ServiceLevel level, ReplicationSummary summary)
    {
        double half = double.IsFinite(summary.HalfWidth) ? summary.HalfWidth : 0;
        double far = level.AtMost ? summary.Mean + half : summary.Mean - half, near = level.AtMost ? summary.Mean - half : summary.Mean + half;
        return level.IsMet(far) ? Verdict.Kept : !level.IsMet(near) ? Verdict.Missed : Verdict.TooClose;
    }

    /// <summary>The guests' mean of their workload's first figure of merit, over the seeds (NaN when refused).</summary>
    public double MeanFirstMetric => Refused is null && Runs.Count > 0 ? Runs.Average(r => r.MeanFigures[0].Value) : double.NaN;

    /// <summary>The guests' mean host memory in MiB over the seeds (<see cref="ProbeRun.MemoryPerGuestMiB"/>; NaN when refused).</summary>
    public double MemoryPerGuestMiB => Refused is null && Runs.Count > 0 ? Runs.Average(r => r.MemoryPerGuestMiB) : double.NaN;

    /// <summary>Each figure of merit, the mean over the guests and the seeds (what <c>density.png</c> draws for a metric other than the service level's); empty when refused.</summary>
    public IReadOnlyList<Metric> MeanFigures => Refused is not null || Runs.Count == 0 ? []
        : [.. Runs[0].MeanFigures.Select((f, i) => new Metric(f.Name, Runs.Average(r => r.MeanFigures[i].Value), f.Unit))];

    /// <summary>What the host's resources did, the mean over the seeds (no resources when refused).</summary>
    public HostUse Use => HostUse.Mean(Refused is null ? Runs.Select(r => r.Use).ToList() : []);
}
