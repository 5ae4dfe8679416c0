using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Density;

/// <summary>One run of a density search: a preset with a number of guests, and what came of it.</summary>
/// <param name="Refused">Why the guests could not run (they do not fit the host's memory), or null when they ran.</param>
/// <param name="Worst">The service-level metric of the guest furthest from the level (NaN when refused), in <paramref name="Unit"/>.</param>
/// <param name="MeanFirstMetric">The guests' mean of their workload's first figure of merit (NaN when refused).</param>
/// <param name="MemoryIgnored">Whether the host's memory was left unbounded for this probe: the search past the memory's bound for what the service level alone allows.</param>
public sealed record DensityProbe(string Preset, int Guests, string? Refused, double Worst, string Unit, double MeanFirstMetric, bool Met, bool MemoryIgnored = false)
{
    /// <summary>The guests' mean host memory in MiB: a VM's reservation (what the host backed, with its EPT and per-vCPU frames, when its memory is backed on first touch, less its share of what page merging saved), a container's peak charge (NaN when refused).</summary>
    public double MemoryPerGuestMiB { get; init; } = double.NaN;

    /// <summary>Each figure of merit, the mean over the guests (what <c>density.png</c> draws for a metric other than the service level's); empty when refused.</summary>
    public IReadOnlyList<Metric> MeanFigures { get; init; } = [];
}

/// <summary>How many guests a preset fits, what stopped it, and every probe that found it.</summary>
/// <param name="Skipped">Why the preset cannot consolidate guests of this workload (it was not searched), or null.</param>
/// <param name="BoundBy">What limits the density: "service level", "memory", "overcommit ratio" (the VMs' memory at the study's target ratio of the host's, all of them running within the level) or "max guests".</param>
/// <param name="ServiceLevelBound">When memory binds: the guests the service level alone would allow were the host's memory unbounded (up to the study's maximum); null otherwise.</param>
public sealed record DensityResult(string Preset, string? Skipped, int Density, string BoundBy, int MemoryBound, IReadOnlyList<DensityProbe> Probes, int? ServiceLevelBound = null)
{
    /// <summary>The probe of the density itself (on the host's memory), or null when none kept the level.</summary>
    public DensityProbe? AtDensity => Probes.FirstOrDefault(p => !p.MemoryIgnored && p.Guests == Density && p.Met);
}

/// <summary>
/// The search for the most guests that keep a service level: a preset's guests are added in
/// doubling steps (1, 2, 4 ...) until a step misses the level or no longer fits the host's memory,
/// then the last gap is halved until the passing and the failing counts are neighbours. Every
/// probe is a whole simulation of that many guests on the host. The search takes a guest's
/// service to get no better as guests are added (what the doubling and halving need); the probes
/// are all reported so that a reader can see whether it held. Deterministic: one seed, the base
/// scenario's.
/// </summary>
public static class DensitySearch
{
    /// <summary>Searches every preset of <paramref name="study"/> (in parallel), calling <paramref name="progress"/> after each probe.</summary>
    public static IReadOnlyList<DensityResult> Run(DensityStudy study, Action<DensityProbe>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(study);
        var results = new DensityResult[study.Presets.Count];
        Parallel.For(0, results.Length, i => results[i] = Search(study, study.Presets[i], progress));
        return results;
    }

    /// <summary>The density of one preset.</summary>
    public static DensityResult Search(DensityStudy study, string preset, Action<DensityProbe>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(study);
        if ((study.At(preset, 2) with { HostMemoryMiB = null }).FirstProblem() is { } problem) // what memory does not explain: the preset runs one guest, or not this workload
        {
            return new DensityResult(preset, problem, 0, "n/a", 0, []);
        }
        var probes = new List<DensityProbe>();
        DensityProbe Probe(int guests, bool ignoreMemory = false)
        {
            DensityProbe p = Run(ignoreMemory ? study with { Base = study.Base with { HostMemoryMiB = null } } : study, preset, guests) with { MemoryIgnored = ignoreMemory };
            probes.Add(p);
            progress?.Invoke(p);
            return p;
        }
        int? ratioBound = study.RatioBound(preset);
        int memoryBound = MemoryBound(study, preset, Math.Min(study.MaxGuests, ratioBound ?? int.MaxValue));
        int cap = Math.Min(study.MaxGuests, memoryBound);
        if (cap == 0)
        {
            return new DensityResult(preset, null, 0, "memory", memoryBound, probes);
        }
        DensityProbe first = Probe(1);
        if (!first.Met)
        {
            return new DensityResult(preset, null, 0, first.Refused is null ? "service level" : "memory", memoryBound, probes);
        }
        (int pass, DensityProbe? fail) = Climb(n => Probe(n), 1, cap);
        string boundBy = fail is not null ? (fail.Refused is null ? "service level" : "memory")
            : pass == memoryBound && memoryBound < study.MaxGuests ? (memoryBound == ratioBound ? "overcommit ratio" : "memory") : "max guests";
        int? serviceLevelBound = null;
        if (boundBy is "memory" or "overcommit ratio" && pass < study.MaxGuests)
        {
            (serviceLevelBound, _) = Climb(n => Probe(n, ignoreMemory: true), pass, study.MaxGuests);
        }
        return new DensityResult(preset, null, pass, boundBy, memoryBound, [.. probes.OrderBy(p => p.MemoryIgnored).ThenBy(p => p.Guests)], serviceLevelBound);
    }

    /// <summary>
    /// From <paramref name="pass"/> guests, known to keep the level, up to <paramref name="cap"/>:
    /// doubling until a probe fails, then halving the gap; the most guests that passed, and the
    /// fewest that failed (null if none did).
    /// </summary>
    private static (int Pass, DensityProbe? Fail) Climb(Func<int, DensityProbe> probe, int pass, int cap)
    {
        DensityProbe? fail = null;
        for (int n = Math.Min(pass * 2, cap); fail is null && pass < cap; n = Math.Min(n * 2, cap))
        {
            DensityProbe p = probe(n);
            (pass, fail) = p.Met ? (n, null) : (pass, p);
        }
        while (fail is not null && fail.Guests - pass > 1)
        {
            DensityProbe p = probe((pass + fail.Guests) / 2);
            (pass, fail) = p.Met ? (p.Guests, fail) : (pass, p);
        }
        return (pass, fail);
    }

    /// <summary>The most guests, up to <paramref name="limit"/>, whose memory the host can reserve under <paramref name="preset"/>.</summary>
    public static int MemoryBound(DensityStudy study, string preset, int limit)
    {
        ArgumentNullException.ThrowIfNull(study);
        WorkloadScenario one = study.At(preset, 1);
        if (one.HostMemoryMiB is not { } host || one.Problem("preset") is not null || one.Problem("profile") is not null)
        {
            return limit;
        }
        int lo = 0;
        int hi = limit;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            bool fits = WorkloadRun.MemoryProblem(one.ResolveAxes(), new Consolidation(mid) { GuestBaseSystem = one.GuestBaseSystem }, (ulong)host << 20, one.ResolveMachine().MemoryBytes, one.ResolveMonitorParameters()) is null;
            (lo, hi) = fits ? (mid, hi) : (lo, mid - 1);
        }
        return lo;
    }

    /// <summary>Each guest's major faults per second of its run (<see cref="ServiceLevel.MajorFaultsPerSecond"/>): a virtual machine's kernel's, a container's own; a run of one guest, its kernel's.</summary>
    private static IEnumerable<double> MajorFaultRates(WorkloadRunResult r) => r.Guests.Count > 0
        ? r.Guests.Select(g => g.Outcome.PerSecond(g.IsContainer ? r.Stat($"{g.Name}.memory", "major_faults")
            : r.Stat($"{g.Name}.kernel.swap", "major_faults") + r.Stat($"{g.Name}.memory", "major_faults"))) // a VM's: its kernel's, and the host's on its memory
        : [r.Outcome.PerSecond(r.Stat(r.KernelPath + ".swap", "major_faults") + r.Stat("vm0.memory", "major_faults"))];

    /// <summary>One probe: <paramref name="guests"/> guests under <paramref name="preset"/>, each judged by the service level.</summary>
    public static DensityProbe Run(DensityStudy study, string preset, int guests)
    {
        ArgumentNullException.ThrowIfNull(study);
        WorkloadScenario scenario = study.At(preset, guests);
        if (scenario.FirstProblem() is { } problem)
        {
            return new DensityProbe(preset, guests, problem, double.NaN, "", double.NaN, false);
        }
        WorkloadRunResult r;
        try
        {
            r = scenario.RunOnce(scenario.Seed);
        }
        catch (MemoryExhaustedException e)
        {
            return new DensityProbe(preset, guests, $"memory exhausted while running: {e.Message}", double.NaN, "", double.NaN, false);
        }
        IReadOnlyList<IReadOnlyList<Metric>> figures = r.Guests.Count > 0 ? [.. r.Guests.Select(g => g.FiguresOfMerit)] : [r.FiguresOfMerit];
        double worst = study.Slo.Worst(study.Slo.OnMajorFaults ? MajorFaultRates(r) : figures.Select(study.Slo.ValueIn));
        string unit = study.Slo.OnMajorFaults ? "/s" : figures[0].First(f => f.Name == study.Slo.Metric).Unit;
        IEnumerable<ulong> memory = r.Guests.Count > 0 ? r.Guests.Select(g => g.MemoryBytes) : [r.GuestMemoryBytes];
        double shared = PageMerging.Of(r.Run.Samples)?.SavedBytes ?? 0; // frames page merging saved, shared out over the guests
        return new DensityProbe(preset, guests, null, worst, unit, figures.Average(f => f[0].Value), study.Slo.IsMet(worst))
        {
            MemoryPerGuestMiB = (memory.Average(b => (double)b) - (shared / guests)) / (1 << 20),
            MeanFigures = [.. figures[0].Select((f, i) => new Metric(f.Name, figures.Average(g => g[i].Value), f.Unit))],
        };
    }
}
