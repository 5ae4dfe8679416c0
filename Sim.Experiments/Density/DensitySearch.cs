using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Density;

/// <summary>
/// The search for the most guests that keep a service level: a preset's guests are added in
/// doubling steps (1, 2, 4 ...) until a step misses the level or no longer fits the host's memory,
/// then the last gap is halved until the passing and the failing counts are neighbours. Every
/// probe is a whole simulation of that many guests on the host at each of the study's seeds; the
/// search goes by the mean of the worst guest's metric over the seeds, and then finds the
/// answer's interval: down from the density to the first count the whole 95% interval keeps, up
/// from it to the first the interval misses (docs/density.md, "How sure the answer is"). The search
/// takes a guest's service to get no better as guests are added (what the doubling and halving
/// need); the probes that break that are flagged (<see cref="DensityResult.Anomalies"/>).
/// Deterministic: the seeds are the base's and the next ones, each run on its own, and the answer
/// does not depend on the threads or on which runs an interrupted search had kept.
/// </summary>
public static class DensitySearch
{
    /// <summary>
    /// Searches every preset of <paramref name="study"/> (in parallel, at most
    /// <paramref name="threads"/> simulations at once; the processors by default), calling
    /// <paramref name="progress"/> after each probe with an estimate of the probes its preset has
    /// left; runs <paramref name="kept"/> holds are not simulated again, and each new one is given to it.
    /// </summary>
    public static IReadOnlyList<DensityResult> Run(DensityStudy study, Action<DensityProbe, int>? progress = null, IProbeRuns? kept = null, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(study);
        using var gate = new SemaphoreSlim(threads > 0 ? threads : Environment.ProcessorCount);
        var results = new DensityResult[study.Presets.Count];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = results.Length }, i => results[i] = new Searcher(study, study.Presets[i], progress, kept, gate).Search());
        return results;
    }

    /// <summary>The density of one preset, its seeds run one after another.</summary>
    public static DensityResult Search(DensityStudy study, string preset)
    {
        ArgumentNullException.ThrowIfNull(study);
        using var gate = new SemaphoreSlim(1);
        return new Searcher(study, preset, null, null, gate).Search();
    }

    /// <summary>One preset's search: its probes so far (each count run once), and how they are run.</summary>
    private sealed class Searcher(DensityStudy study, string preset, Action<DensityProbe, int>? progress, IProbeRuns? kept, SemaphoreSlim gate)
    {
        private readonly Dictionary<(int Guests, bool MemoryIgnored), DensityProbe> _probes = [];
        private int _left;

        private DensityProbe Probe(int guests, bool ignoreMemory = false)
        {
            if (_probes.TryGetValue((guests, ignoreMemory), out DensityProbe? known))
            {
                return known;
            }
            DensityProbe p = DensitySearch.Run(ignoreMemory ? study with { Base = study.Base with { HostMemoryMiB = null } } : study, preset, guests, ignoreMemory, kept, gate);
            _probes[(guests, ignoreMemory)] = p;
            progress?.Invoke(p, _left);
            return p;
        }

        /// <summary>The preset's density; on a mixed host, with each workload's guest run alone on the host beside it.</summary>
        public DensityResult Search()
        {
            DensityResult result = Searched();
            if (study.Alongside.Count == 0 || result.Skipped is not null)
            {
                return result;
            }
            DensityStudy alone = study with { Alongside = [] };
            _left = study.Alongside.Count + 1;
            var probes = new List<DensityProbe>();
            foreach ((DensityStudy one, int k) in study.Alongside.Select(g => alone with { Base = g.Alone(study.Base), Slo = g.Slo }).Prepend(alone).Select((one, k) => (one, k)))
            {
                DensityProbe p = DensitySearch.Run(one, preset, 1, kept: kept, gate: gate, alone: k);
                progress?.Invoke(p, --_left);
                probes.Add(p);
            }
            return result with { Alone = probes };
        }

        private DensityResult Searched()
        {
            if ((study.At(preset, 2) with { HostMemoryMiB = null }).FirstProblem() is { } problem) // what memory does not explain: the preset runs one guest, or not this workload
            {
                return new DensityResult(preset, problem, 0, "n/a", 0, [], 0, 0);
            }
            int? ratioBound = study.RatioBound(preset);
            int memoryBound = MemoryBound(study, preset, Math.Min(study.MaxGuests, ratioBound ?? int.MaxValue));
            int cap = Math.Min(study.MaxGuests, memoryBound);
            if (cap == 0)
            {
                return Result(0, "memory", memoryBound, 0, 0, null);
            }
            _left = Steps(1, null, cap);
            DensityProbe first = Probe(1);
            if (!first.Met)
            {
                return Result(0, first.Refused is null ? "service level" : "memory", memoryBound, 0, Upward(0, cap), null);
            }
            (int pass, DensityProbe? fail) = Climb(n => Probe(n), 1, cap);
            string boundBy = fail is not null ? (fail.Refused is null ? "service level" : "memory")
                : pass == memoryBound && memoryBound < study.MaxGuests ? (memoryBound == ratioBound ? "overcommit ratio" : "memory") : "max guests";
            int low = Downward(pass);
            int high = fail is null ? pass : Upward(pass, cap);
            int? serviceLevelBound = null;
            if (boundBy is "memory" or "overcommit ratio" && pass < study.MaxGuests)
            {
                (serviceLevelBound, _) = Climb(n => Probe(n, ignoreMemory: true), pass, study.MaxGuests);
            }
            return Result(pass, boundBy, memoryBound, low, high, serviceLevelBound);
        }

        private DensityResult Result(int density, string boundBy, int memoryBound, int low, int high, int? serviceLevelBound)
        {
            DensityProbe[] probes = [.. _probes.Values.OrderBy(p => p.MemoryIgnored).ThenBy(p => p.Guests)];
            return new DensityResult(preset, null, density, boundBy, memoryBound, probes, low, high, serviceLevelBound) { Anomalies = Anomalies(probes) };
        }

        /// <summary>From the density down to the first count the whole interval keeps (0 when none does).</summary>
        private int Downward(int density)
        {
            int n = density;
            while (n > 0 && Probe(n).Verdict != Verdict.Kept)
            {
                n--;
            }
            return n;
        }

        /// <summary>From the count above the density up to the first the whole interval misses, within <paramref name="cap"/>: one below it.</summary>
        private int Upward(int density, int cap)
        {
            int n = density + 1;
            while (n <= cap && Probe(n).Verdict != Verdict.Missed)
            {
                n++;
            }
            return n - 1;
        }

        /// <summary>
        /// From <paramref name="pass"/> guests, known to keep the level, up to <paramref name="cap"/>:
        /// doubling until a probe fails, then halving the gap; the most guests that passed, and the
        /// fewest that failed (null if none did).
        /// </summary>
        private (int Pass, DensityProbe? Fail) Climb(Func<int, DensityProbe> probe, int pass, int cap)
        {
            DensityProbe? fail = null;
            for (int n = Math.Min(pass * 2, cap); fail is null && pass < cap; n = Math.Min(n * 2, cap))
            {
                _left = Steps(pass, null, cap);
                DensityProbe p = probe(n);
                (pass, fail) = p.Met ? (n, null) : (pass, p);
            }
            while (fail is not null && fail.Guests - pass > 1)
            {
                _left = Steps(pass, fail.Guests, cap);
                DensityProbe p = probe((pass + fail.Guests) / 2);
                (pass, fail) = p.Met ? (p.Guests, fail) : (pass, p);
            }
            return (pass, fail);
        }
    }

    /// <summary>
    /// About how many probes a search at <paramref name="pass"/> (and <paramref name="fail"/>, once
    /// a count failed) has left below <paramref name="cap"/>, this one included: the doublings to the
    /// cap, then the halvings of a gap as wide as the last step. An estimate for the progress line only.
    /// </summary>
    private static int Steps(int pass, int? fail, int cap)
    {
        static int Log2(int n) => n <= 1 ? 0 : (int)Math.Ceiling(Math.Log2(n));
        return fail is { } f ? Log2(f - pass) : Log2((int)Math.Ceiling(cap / (double)Math.Max(1, pass))) + Log2(Math.Max(2, pass));
    }

    /// <summary>The probes (on the host's memory) that break the assumption that service gets no better as guests are added.</summary>
    public static IReadOnlyList<string> Anomalies(IReadOnlyList<DensityProbe> probes)
    {
        ArgumentNullException.ThrowIfNull(probes);
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        var found = new List<string>();
        DensityProbe[] ran = [.. probes.Where(p => !p.MemoryIgnored && p.Refused is null)];
        foreach (DensityProbe more in ran)
        {
            if (ran.Where(p => p.Guests < more.Guests && !p.Met && more.Met).MinBy(p => p.Guests) is { } fewer)
            {
                found.Add(string.Create(ci, $"{more.Guests} guests kept the level where {fewer.Guests} missed it"));
            }
            else if (ran.Where(p => p.Guests < more.Guests && Better(more, p)).MinBy(p => p.Guests) is { } worse)
            {
                found.Add(string.Create(ci, $"{more.Guests} guests' worst {more.Slo.Metric} ({more.Worst:G4} {more.Unit}) is better than {worse.Guests}'s ({worse.Worst:G4}) on the whole 95% intervals"));
            }
        }
        return found;
    }

    /// <summary>Whether <paramref name="a"/>'s interval lies wholly on the level's better side of <paramref name="b"/>'s (not comparable from one seed: no interval).</summary>
    private static bool Better(DensityProbe a, DensityProbe b) =>
        double.IsFinite(a.Summary.HalfWidth) && double.IsFinite(b.Summary.HalfWidth)
        && (a.Slo.AtMost ? a.Summary.Upper < b.Summary.Lower : a.Summary.Lower > b.Summary.Upper);

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
        int hi = Math.Min(limit, Consolidation.MaxGuests - study.FixedGuests);
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            bool fits = WorkloadRun.MemoryProblem(one.ResolveAxes(), new Consolidation(mid + study.FixedGuests) { GuestBaseSystem = one.GuestBaseSystem }, (ulong)host << 20, one.ResolveMachine().MemoryBytes, one.ResolveMonitorParameters()) is null;
            (lo, hi) = fits ? (mid, hi) : (lo, mid - 1);
        }
        return lo;
    }

    /// <summary>Each guest's major faults per second of its run (<see cref="ServiceLevel.MajorFaultsPerSecond"/>): a virtual machine's kernel's, a container's own; a run of one guest, its kernel's.</summary>
    private static IEnumerable<double> MajorFaultRates(WorkloadRunResult r) => r.Guests.Count > 0
        ? r.Guests.Select(g => g.Outcome.PerSecond(g.IsContainer ? r.Stat($"{g.Name}.memory", "major_faults")
            : r.Stat($"{g.Name}.kernel.swap", "major_faults") + r.Stat($"{g.Name}.memory", "major_faults"))) // a VM's: its kernel's, and the host's on its memory
        : [r.Outcome.PerSecond(r.Stat(r.KernelPath + ".swap", "major_faults") + r.Stat("vm0.memory", "major_faults"))];

    /// <summary>
    /// One probe: <paramref name="guests"/> guests under <paramref name="preset"/> at each of the
    /// study's seeds (in parallel, as <paramref name="gate"/> allows), each judged by the service
    /// level; a run <paramref name="kept"/> holds is taken from it.
    /// </summary>
    /// <param name="alone">For a run of one guest alone on the host (a mixed host's figure without the others): 0 for the searched workload, k for the k-th group alongside; -1 for a probe of the search.</param>
    public static DensityProbe Run(DensityStudy study, string preset, int guests, bool memoryIgnored = false, IProbeRuns? kept = null, SemaphoreSlim? gate = null, int alone = -1)
    {
        ArgumentNullException.ThrowIfNull(study);
        WorkloadScenario scenario = study.At(preset, guests);
        if (scenario.FirstProblem() is { } problem)
        {
            return new DensityProbe(preset, guests, problem, "", [], study.Slo, memoryIgnored) { Alongside = study.Alongside };
        }
        var runs = new ProbeRun[study.Seeds];
        Parallel.For(0, runs.Length, i =>
        {
            var key = new ProbeKey(preset, guests, memoryIgnored, i, alone);
            if (kept?.Known(key) is { } known)
            {
                runs[i] = known;
                return;
            }
            gate?.Wait();
            try
            {
                runs[i] = RunSeed(study, scenario, scenario.Seed + (ulong)i);
            }
            finally
            {
                gate?.Release();
            }
            kept?.Keep(key, runs[i]);
        });
        string unit = study.Slo.OnMajorFaults ? "/s" : runs.FirstOrDefault(r => r.Refused is null)?.MeanFigures.FirstOrDefault(f => f.Name == study.Slo.Metric)?.Unit ?? "";
        return new DensityProbe(preset, guests, runs.FirstOrDefault(r => r.Refused is not null)?.Refused, unit, runs, study.Slo, memoryIgnored) { Alongside = study.Alongside };
    }

    /// <summary>One seed's run of a probe's scenario.</summary>
    private static ProbeRun RunSeed(DensityStudy study, WorkloadScenario scenario, ulong seed)
    {
        WorkloadRunResult r;
        try
        {
            r = scenario.RunOnce(seed);
        }
        catch (MemoryExhaustedException e)
        {
            return new ProbeRun(seed, double.NaN, [], double.NaN, new HostUse([]), $"memory exhausted while running: {e.Message}");
        }
        IReadOnlyList<IReadOnlyList<Metric>> all = r.Guests.Count > 0 ? [.. r.Guests.Select(g => g.FiguresOfMerit)] : [r.FiguresOfMerit];
        double[] majorFaults = study.Slo.OnMajorFaults || study.Alongside.Any(g => g.Slo.OnMajorFaults) ? [.. MajorFaultRates(r)] : [];
        // On a mixed host the searched guests come first, then each group's (DensityStudy.At).
        int searched = all.Count - study.FixedGuests;
        double WorstOf(ServiceLevel level, int from, int count) =>
            level.Worst(level.OnMajorFaults ? majorFaults.Skip(from).Take(count) : all.Skip(from).Take(count).Select(level.ValueIn));
        IReadOnlyList<IReadOnlyList<Metric>> figures = [.. all.Take(searched)];
        double worst = WorstOf(study.Slo, 0, searched);
        var alongside = new double[study.Alongside.Count];
        for (int g = 0, from = searched; g < alongside.Length; from += study.Alongside[g].Guests, g++)
        {
            alongside[g] = WorstOf(study.Alongside[g].Slo, from, study.Alongside[g].Guests);
        }
        IEnumerable<ulong> memory = r.Guests.Count > 0 ? r.Guests.Select(g => g.MemoryBytes) : [r.GuestMemoryBytes];
        double shared = PageMerging.Of(r.Run.Samples)?.SavedBytes ?? 0; // frames page merging saved, shared out over the guests
        int guests = all.Count;
        double perGuest = (memory.Average(b => (double)b) - (shared / guests)) / (1 << 20);
        return new ProbeRun(seed, worst, [.. figures[0].Select((f, i) => new Metric(f.Name, figures.Average(g => g[i].Value), f.Unit))], perGuest,
            HostUse.Of(r, scenario.ResolveProfile(), perGuest * guests, scenario.HostMemoryMiB)) { AlongsideWorst = alongside };
    }
}
