using Sim.Experiments.Comparisons;
using Sim.Models.Hardware;
using Sim.Models.Platform;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Experiments.Tour;

/// <summary>One workload of a tour and the size it runs at.</summary>
public sealed record TourWorkload(string Name, long Size);

/// <summary>One workload of a tour under every architecture: the first outcome is native's.</summary>
public sealed record TourResult(string Workload, string Description, long Size, IReadOnlyList<TourOutcome> Outcomes);

/// <summary>
/// The simulator's mission in small, and what <c>virtsim run</c> does by default: a short set of
/// workloads (a trap-heavy nanobenchmark, a system call, process creation, a network round trip)
/// run natively and under the five architectures of the field on one profile and seed, so that
/// a first run shows the three things the simulator is for: what each kind of exit costs, how
/// much slower the same work runs, and where the extra cycles go.
/// </summary>
/// <remarks>
/// Each workload runs twice under each architecture, at its size and at twice its size, and the
/// tour reports the difference: the cost of the second half's operations alone, warm. What a run
/// pays once (booting, creating the process, a binary translator's first pass over the kernel's
/// code, which alone is some 30 million cycles) would otherwise swamp a short run and tell a
/// first-time user that translation costs eighty times native on a system call. The calibration
/// against Adams and Agesen removes start-up the same way.
/// </remarks>
public sealed record ArchitectureTour(string Profile, ulong Seed, IReadOnlyList<TourWorkload> Workloads)
{
    /// <summary>
    /// The built-in tour, on the first profile with EPT (so type1 runs with nested paging): the IN of
    /// Adams and Agesen's nanobenchmarks (an exit per iteration under every monitor), lmbench's null
    /// system call and fork (the guest kernel's own paths), and netperf's request-response (the
    /// emulated NIC). Sizes chosen to finish in seconds, each still thousands of operations.
    /// </summary>
    public static ArchitectureTour Default { get; } = new("nehalem-x5570", 42,
        [new("in", 2_000), new("lat-null", 2_000), new("lat-fork", 200), new("netperf-rr", 500)]);

    /// <summary>
    /// Native, the four presets that virtualize (VT-x bare-metal and hosted, Xen-like
    /// paravirtualization, containers), and the binary translator of VMware's monitor before
    /// VT-x: the five architectures of the field, in that order.
    /// </summary>
    public static IReadOnlyList<(string Name, VirtualizationAxes Axes)> Architectures(HardwareProfile profile) =>
    [
        .. VirtualizationAxes.Presets.Select(p => (p, VirtualizationAxes.ForPreset(p, profile))),
        ("binary-translation", VirtualizationAxes.Resolve("native", profile, CpuVirtualization.BinaryTranslation, null, null, null)),
    ];

    /// <summary>What is wrong with the tour (an unknown profile or workload, a size below 1), or null.</summary>
    public string? Problem() =>
        HardwareProfiles.All.All(p => p.Name != Profile) ? $"there is no hardware profile '{Profile}'; the profiles are: {string.Join(", ", HardwareProfiles.All.Select(p => p.Name))}"
        : Workloads.Count == 0 ? "a tour needs at least one workload"
        : Workloads.FirstOrDefault(w => WorkloadCatalog.All.All(c => c.Workload.Name != w.Name)) is { } unknown ? $"there is no workload '{unknown.Name}'; see 'virtsim workloads'"
        : Workloads.FirstOrDefault(w => w.Size < 1) is { } empty ? $"{empty.Name} needs a positive size (got {empty.Size})"
        : null;

    /// <summary>
    /// Runs every workload under every architecture, each run its own deterministic simulation
    /// (so the results do not depend on <paramref name="threads"/> or the order they finish in);
    /// <paramref name="done"/> hears of each run as it ends (how many of how many).
    /// </summary>
    public IReadOnlyList<TourResult> Run(int threads, Action<int, int>? done = null)
    {
        if (Problem() is { } problem)
        {
            throw new ArgumentException($"The tour cannot run: {problem}.");
        }
        HardwareProfile profile = HardwareProfiles.Get(Profile);
        IReadOnlyList<(string Name, VirtualizationAxes Axes)> architectures = Architectures(profile);
        var runs = new PresetOutcome[Workloads.Count, architectures.Count, 2];
        int finished = 0;
        // The longest runs first (the twice-sized ones of the largest workloads), so that the threads finish together.
        int[] jobs = [.. Enumerable.Range(0, runs.Length).OrderByDescending(j => j % 2).ThenBy(j => j)];
        Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, job =>
        {
            (int wa, int twice) = Math.DivRem(job, 2);
            (int w, int a) = Math.DivRem(wa, architectures.Count);
            IWorkload workload = WorkloadCatalog.Get(Workloads[w].Name).Workload;
            runs[w, a, twice] = PresetOutcome.Of(architectures[a].Name, architectures[a].Axes, profile, workload, Workloads[w].Size * (1 + twice), Seed, MachineConfiguration.Default);
            done?.Invoke(Interlocked.Increment(ref finished), runs.Length);
        });
        var outcomes = new TourOutcome[Workloads.Count, architectures.Count];
        for (int w = 0; w < Workloads.Count; w++)
        {
            for (int a = 0; a < architectures.Count; a++)
            {
                outcomes[w, a] = new TourOutcome(architectures[a].Name, architectures[a].Axes, runs[w, a, 0].Result, runs[w, a, 1].Result, runs[w, a, 0].NotRun);
            }
        }
        return [.. Workloads.Select((w, i) => new TourResult(w.Name, WorkloadCatalog.Get(w.Name).Workload.Description, w.Size,
            [.. Enumerable.Range(0, architectures.Count).Select(a => outcomes[i, a])]))];
    }

    /// <summary>The tour as written beside its results.</summary>
    public IReadOnlyDictionary<string, object> Resolved() => new Dictionary<string, object>
    {
        ["kind"] = "tour",
        ["profile"] = Profile,
        ["seed"] = Seed,
        ["workloads"] = Workloads.Select(w => new Dictionary<string, object> { ["workload"] = w.Name, ["size"] = w.Size }).ToArray(),
        ["architectures"] = Architectures(HardwareProfiles.Get(Profile)).Select(a => ComparisonReport.Architecture("name", a.Name, a.Axes)).ToArray(),
    };
}
