using System.Globalization;
using Sim.Experiments.Scenarios;
using YamlDotNet.RepresentationModel;

namespace Sim.Experiments.Density;

/// <summary>
/// A guest-density question: how many guests of a workload fit on a host within a service level,
/// under each of several architectures. The base scenario gives the workload (a service at a
/// request rate, usually), the machine profile, the host's cores and memory and each guest's
/// memory; <see cref="Presets"/> the architectures compared; <see cref="Slo"/> what every guest
/// must keep; <see cref="MaxGuests"/> where the search stops. Read from YAML (docs/density.md).
/// </summary>
public sealed record DensityStudy(string Name, WorkloadScenario Base, IReadOnlyList<string> Presets, ServiceLevel Slo, int MaxGuests)
{
    public static readonly string[] FileKeys = ["name", "base", "presets", "slo", "max_guests", "seeds", "plot", "overcommit", "overcommit_ratio", "alongside"];

    /// <summary>
    /// Seeds a probe runs when a study names none: five, as the issue of capacity planning asks;
    /// with five the 95% interval of the worst guest's metric is the mean plus or minus 2.78
    /// standard errors (Student's t with 4 degrees of freedom).
    /// </summary>
    public const int DefaultSeeds = 5;

    /// <summary>The most seeds a probe may run.</summary>
    public const int MostSeeds = 100;

    /// <summary>
    /// How many seeds each probe runs (the base's seed and the next ones): the service level is
    /// judged on the interval of the worst guest's metric over them (docs/density.md, "How sure the
    /// answer is").
    /// </summary>
    public int Seeds { get; init; } = DefaultSeeds;

    /// <summary>
    /// Guests of other workloads the host runs beside the searched ones, each group a fixed number
    /// with its own level (docs/density.md, "Mixed hosts"); empty for a host of the base's guests only.
    /// </summary>
    public IReadOnlyList<GuestGroup> Alongside { get; init; } = [];

    /// <summary>The searched workload's name in a mixed host's report: a workload file's own name, or the built-in workload's.</summary>
    public string SearchedName => GuestGroup.NameOf(Base.Workload);

    /// <summary>The guests of <see cref="Alongside"/>, together.</summary>
    public int FixedGuests => Alongside.Sum(g => g.Guests);

    /// <summary>The values of <see cref="Overcommit"/>: how the host lets its VMs' memory add up to more than it has.</summary>
    public static readonly string[] OvercommitPolicies = ["none", "balloon", "ksm", "balloon+ksm"];

    /// <summary>
    /// The target ratio of a policy given without one: the VMs' memory half again the host's. An
    /// assumption: operators report running KVM hosts at 150% to 200% (a practitioner's account,
    /// not a survey; docs/density.md, "Overcommitting memory").
    /// </summary>
    public const double DefaultOvercommitRatio = 1.5;

    /// <summary>
    /// How the study overcommits VMs' memory (docs/density.md, "Overcommitting memory"): none
    /// (each VM's memory as the base has it, reserved whole unless it says otherwise), or backed on
    /// first touch with each VM's balloon holding what the ratio takes away, with the host's page
    /// merging (KSM at the base's rate or Linux's default 100 pages per batch), or with both.
    /// Containers are not affected: they hold only what they touch already.
    /// </summary>
    public string Overcommit { get; init; } = "none";

    /// <summary>The VMs' memory the host admits over what it has (at least 1): the search's bound, and with a balloon each VM's share.</summary>
    public double OvercommitRatio { get; init; } = 1;

    /// <summary>Whether the policy gives each VM a balloon.</summary>
    public bool Balloons => Overcommit.Contains("balloon", StringComparison.Ordinal);

    /// <summary>Whether the policy has the host merge pages.</summary>
    public bool Merges => Overcommit.Contains("ksm", StringComparison.Ordinal);

    /// <summary>What each VM's balloon holds under a balloon policy: its memory less its share at the ratio.</summary>
    public long BalloonMiB => Base.GuestMemoryMiB - (long)Math.Ceiling(Base.GuestMemoryMiB / OvercommitRatio);

    /// <summary>The figure of merit <c>density.png</c> draws (the file's <c>plot:</c>, or <c>--metric</c>); null for the service level's.</summary>
    public string? Plot { get; init; }

    /// <summary>What <c>density.png</c> draws: the worst guest's service-level metric, or the guests' mean of <see cref="Plot"/>.</summary>
    public string PlotMetric => Plot ?? Slo.Metric;

    /// <summary>The presets compared when a study names none: those that consolidate guests (the VT-x hypervisors and containers).</summary>
    public static readonly string[] DefaultPresets = ["type1", "type2", "oslevel"];

    /// <summary>
    /// The built-in study (the source text's claim 7, "about ten times as many guests"): a web
    /// service at 500 requests a second per guest on one Nehalem core with 4 GiB, each virtual
    /// machine given 512 MiB whose boot leaves 128 MiB of its image cached and 64 MiB of daemons'
    /// memory, and a 99th-percentile response time of at most 2 ms. The rate, the memory sizes and
    /// the level are assumptions a study should replace with its own.
    /// </summary>
    public static DensityStudy Default { get; } = new("claim7-web", new WorkloadScenario
    {
        Workload = "web", Profile = "nehalem-x5570", RequestRate = 500, Size = 200, HostCores = 1, HostMemoryMiB = 4096, GuestMemoryMiB = 512,
        GuestBootCacheMiB = 128, GuestBootAnonMiB = 64,
    }, DefaultPresets, new ServiceLevel("response_p99", AtMost: true, 2000), Runs.Consolidation.MaxGuests);

    public static DensityStudy Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Parse(YamlFile.Read(path, "density study"), Path.GetFileName(path), Path.GetFileNameWithoutExtension(path));
    }

    public static DensityStudy Parse(string text, string source, string name)
    {
        YamlMappingNode root = YamlFile.Root(text, source) switch
        {
            YamlMappingNode mapping => mapping,
            null or YamlScalarNode { Value: null or "" } => throw new ScenarioException($"{source}: the file holds no density study (it is empty or only comments); a study is a mapping of {string.Join(", ", FileKeys)}."),
            YamlNode other => throw new ScenarioException($"{source}, line {other.Start.Line}: a density study is a mapping of {string.Join(", ", FileKeys)}."),
        };
        WorkloadScenario? scenario = null;
        string[] presets = DefaultPresets;
        ServiceLevel? slo = null;
        int maxGuests = Runs.Consolidation.MaxGuests;
        (string Metric, string Where)? plot = null;
        (string Policy, string Where)? overcommit = null;
        (double Ratio, string Where)? ratio = null;
        int seeds = DefaultSeeds;
        (GuestGroup Group, string Where)[] alongside = [];
        foreach ((YamlNode k, YamlNode v) in root.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            string where = $"{source}, line {v.Start.Line}";
            switch (key)
            {
                case "name":
                    name = v is YamlScalarNode { Value: { Length: > 0 and <= 100 } given } && given.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && given[0] != '.'
                        ? given
                        : throw new ScenarioException($"{where}: name is the study's name in its report and its default folder (runs/density-NAME): letters, digits, '-', '_' and '.', not starting with '.'.");
                    break;
                case "base":
                    YamlMappingNode node = v as YamlMappingNode ?? throw new ScenarioException($"{where}: base is a scenario mapping (the keys of docs/scenarios.md).");
                    if (node.Children.Keys.FirstOrDefault(c => c is YamlScalarNode { Value: "guests" or "guest_workloads" or "preset" or "repetitions" }) is { } bad)
                    {
                        throw new ScenarioException($"{source}, line {bad.Start.Line}: base: '{((YamlScalarNode)bad).Value}' is what the study varies or fixes itself; leave it out (presets are the study's own key).");
                    }
                    scenario = ScenarioFile.FromNode(node, $"{source} (base)", containerLimitsForOslevel: true);
                    break;
                case "presets":
                    presets = CheckPresets(v is YamlSequenceNode { Children.Count: > 0 } list && list.Children.All(c => c is YamlScalarNode)
                        ? [.. list.Children.Select(c => ((YamlScalarNode)c).Value ?? "")]
                        : throw new ScenarioException($"{where}: presets takes a non-empty list, such as [type1, oslevel]."), where);
                    break;
                case "slo":
                    slo = ServiceLevel.Parse(v is YamlScalarNode { Value: { } s } ? s : "", where);
                    break;
                case "max_guests":
                    maxGuests = CheckMaxGuests(v is YamlScalarNode { Value: { } m } && int.TryParse(m, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 0, where);
                    break;
                case "seeds":
                    seeds = CheckSeeds(v is YamlScalarNode { Value: { } sv } && int.TryParse(sv, NumberStyles.Integer, CultureInfo.InvariantCulture, out int sn) ? sn : 0, where);
                    break;
                case "plot":
                    plot = v is YamlScalarNode { Value: { Length: > 0 } metric } ? (metric, where)
                        : throw new ScenarioException($"{where}: plot names the figure of merit density.png draws, such as requests.");
                    break;
                case "overcommit":
                    overcommit = v is YamlScalarNode { Value: { } policy } ? (policy, where) : throw new ScenarioException($"{where}: overcommit is one of {string.Join(", ", OvercommitPolicies)}.");
                    break;
                case "alongside":
                    alongside = v is YamlSequenceNode { Children.Count: > 0 } groups
                        ? [.. groups.Children.Select(g => (GuestGroup.Parse(g, source), $"{source}, line {g.Start.Line}"))]
                        : throw new ScenarioException($"{where}: alongside is a list of groups of guests that share the host, each a mapping of {string.Join(", ", GuestGroup.Keys)}.");
                    break;
                case "overcommit_ratio":
                    ratio = (v is YamlScalarNode { Value: { } r } && double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) ? x : double.NaN, where);
                    break;
                default:
                    throw new ScenarioException($"{source}, line {k.Start.Line}: unknown key '{key}'; a density study has {string.Join(", ", FileKeys)}.");
            }
        }
        var study = new DensityStudy(name, scenario ?? throw new ScenarioException($"{source}: base is missing; give the scenario of one guest."), presets,
            slo ?? throw new ScenarioException($"{source}: slo is missing; give the service level every guest must keep, such as 'response_p99 <= 2000'."), maxGuests);
        CheckFigure(study.Base, study.Slo.Metric, source, "slo");
        study = study.Beside(alongside, source);
        if (plot is { } p)
        {
            CheckFigure(study.Base, p.Metric, p.Where, "plot");
        }
        return (study with { Plot = plot?.Metric, Seeds = seeds }).Overcommitted(overcommit?.Policy, ratio?.Ratio, overcommit?.Where ?? ratio?.Where ?? source, ratio?.Where ?? source);
    }

    /// <summary>
    /// The study with <paramref name="groups"/> alongside its searched guests, each checked where
    /// it was given: its workload and its figures under the base, its level on a figure it reports,
    /// and room left for at least one searched guest.
    /// </summary>
    private DensityStudy Beside((GuestGroup Group, string Where)[] groups, string source)
    {
        if (groups.Length == 0)
        {
            return this;
        }
        if (groups.Select(g => g.Group.Name).GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(n => n.Count() > 1 || n.Key == SearchedName) is { } twice)
        {
            throw new ScenarioException($"{source}: alongside: two groups are named '{twice.Key}' (or the base's workload is); give each group a name of its own (name:).");
        }
        DensityStudy study = this with { Alongside = [.. groups.Select(g => g.Group)] };
        if (study.FixedGuests >= Runs.Consolidation.MaxGuests)
        {
            throw new ScenarioException($"{groups[^1].Where}: alongside: the groups' {study.FixedGuests} guests leave no room for a guest searched; the host's guests together are at most {Runs.Consolidation.MaxGuests}.");
        }
        foreach ((GuestGroup group, string where) in groups)
        {
            WorkloadScenario alone = group.Alone(Base);
            if (alone.Problem("workload") is { } workload)
            {
                throw new ScenarioException($"{where}: alongside: {workload}.");
            }
            if (group.RequestRate is not null && alone.Problem("request_rate") is { } rate)
            {
                throw new ScenarioException($"{where}: alongside: {rate}.");
            }
            CheckFigure(alone, group.Slo.Metric, where, $"alongside {group.Name}: slo");
        }
        return study with { MaxGuests = Math.Min(MaxGuests, Runs.Consolidation.MaxGuests - study.FixedGuests) };
    }

    /// <summary>Refuses a service level or a plot on a figure the base's workload does not report, before anything is simulated.</summary>
    private static void CheckFigure(WorkloadScenario scenario, string metric, string where, string key)
    {
        if (scenario.Problem("workload") is not null)
        {
            return; // the base's own error says what is wrong
        }
        if (key.EndsWith("slo", StringComparison.Ordinal) && metric == ServiceLevel.MajorFaultsPerSecond)
        {
            if (scenario.SwapMiB == 0 && scenario.HostSwapMiB == 0)
            {
                throw new ScenarioException($"{where}: {key}: {metric} counts the faults that waited for a page read from swap, and the base has swap_mib 0 and host_swap_mib 0, so there are none; give its kernels swap (swap_mib) or the VMs' host swap (host_swap_mib), or choose a figure of merit.");
            }
            return;
        }
        IReadOnlyList<string> names = scenario.ResolveWorkload().Workload.FigureNames;
        if (!names.Contains(metric))
        {
            string hint = scenario.Workload == "web" && scenario.RequestRate is null ? " (web reports response times only with request_rate in the base)" : "";
            throw new ScenarioException($"{where}: {key}: {scenario.Workload} reports no figure of merit '{metric}'; it reports {string.Join(", ", names)}{hint}.");
        }
    }

    /// <summary>The study with the command line's overrides: presets (comma-separated), service level, maximum guests; null keeps the study's.</summary>
    public DensityStudy With(string? presets, string? slo, int? maxGuests, string? plot = null, string? overcommit = null, double? overcommitRatio = null, int? seeds = null)
    {
        DensityStudy study = this with
        {
            Seeds = seeds is { } n ? CheckSeeds(n, "--seeds") : Seeds,
            Presets = presets is null ? Presets : CheckPresets(presets.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), "--presets"),
            Slo = slo is null ? Slo : ServiceLevel.Parse(slo, "--slo"),
            MaxGuests = maxGuests is { } m ? Math.Min(CheckMaxGuests(m, "--max-guests"), Runs.Consolidation.MaxGuests - FixedGuests) : MaxGuests,
            Plot = plot ?? Plot,
        };
        CheckFigure(study.Base, study.Slo.Metric, slo is null ? Name : "--slo", "slo");
        CheckFigure(study.Base, study.PlotMetric, plot is null ? Name : "--metric", "plot");
        // A policy given alone takes its default ratio; a ratio given alone, the study's policy; new presets are checked against the policy.
        double? ratio = overcommitRatio ?? (overcommit is null || overcommit == Overcommit ? OvercommitRatio : null);
        return study.Overcommitted(overcommit ?? Overcommit, ratio, overcommit is null ? presets is null ? Name : "--presets" : "--overcommit", overcommitRatio is null ? Name : "--overcommit-ratio");
    }

    /// <summary>
    /// The study with an overcommit policy and ratio (null: none, and the policy's default), each
    /// checked: a known policy; a ratio of at least 1, and other than 1 only with a policy; every
    /// VM preset a VT-x host with EPT backing memory on first touch, which balloons and merges a VM's pages
    /// one by one. <paramref name="where"/> and <paramref name="ratioWhere"/> say where each came from.
    /// </summary>
    private DensityStudy Overcommitted(string? policy, double? ratio, string where, string ratioWhere)
    {
        policy ??= "none";
        if (!OvercommitPolicies.Contains(policy))
        {
            throw new ScenarioException($"{where}: overcommit: '{policy}' is not a policy; the policies are {string.Join(", ", OvercommitPolicies)}.");
        }
        double r = ratio ?? (policy == "none" ? 1 : DefaultOvercommitRatio);
        if (!(r >= 1) || !double.IsFinite(r))
        {
            throw new ScenarioException($"{ratioWhere}: overcommit_ratio is the VMs' memory over the host's, a number of at least 1 (got {(ratio is { } given && !double.IsNaN(given) ? given.ToString(CultureInfo.InvariantCulture) : "something else")}).");
        }
        if (policy == "none" && r != 1)
        {
            throw new ScenarioException($"{ratioWhere}: overcommit_ratio {r.ToString(CultureInfo.InvariantCulture)} needs an overcommit policy ({string.Join(", ", OvercommitPolicies.Skip(1))}); with none each VM's memory is the base's.");
        }
        DensityStudy study = this with { Overcommit = policy, OvercommitRatio = r };
        if (policy != "none")
        {
            foreach (string preset in Presets)
            {
                // A preset the search would skip anyway (one guest only) is left to say so; one it would search must take the policy.
                WorkloadScenario one = study.At(preset, 1);
                if (one.Problem("preset") is null && one.Problem("profile") is null && IsVm(one) && (At(preset, 2) with { HostMemoryMiB = null }).FirstProblem() is null && one.FirstProblem() is { } problem
                    && (problem.StartsWith("balloon_mib", StringComparison.Ordinal) || problem.StartsWith("ksm_pages_to_scan", StringComparison.Ordinal) || problem.StartsWith("host_swap_mib", StringComparison.Ordinal) || problem.StartsWith("guest_memory_backing", StringComparison.Ordinal)))
                {
                    throw new ScenarioException($"{where}: overcommit: {policy} backs each VM's memory on first touch, and preset '{preset}' cannot: {problem}.");
                }
            }
        }
        return study;
    }

    private static bool IsVm(WorkloadScenario scenario)
    {
        Models.Virtualization.VirtualizationAxes axes = scenario.ResolveAxes();
        return !axes.IsNative && axes.Hosting != Models.Virtualization.Hosting.SharedKernel;
    }

    /// <summary>
    /// The most VMs the overcommit ratio admits: their memory at most the ratio times what the
    /// host has beside the hypervisor's allowance; null when the study does not overcommit or
    /// <paramref name="preset"/> runs no VMs.
    /// </summary>
    public int? RatioBound(string preset)
    {
        WorkloadScenario one = At(preset, 1);
        if (Overcommit == "none" || one.HostMemoryMiB is not { } host || one.Problem("preset") is not null || one.Problem("profile") is not null || !IsVm(one))
        {
            return null;
        }
        double room = host - (long)(Runs.WorkloadRun.HostSoftwareBytes >> 20);
        return (int)Math.Max(0, Math.Floor(OvercommitRatio * room / one.GuestMemoryMiB) - FixedGuests);
    }

    private static string[] CheckPresets(string[] presets, string where) =>
        presets.Length == 0 ? throw new ScenarioException($"{where}: give at least one preset, such as type1,oslevel.")
        : presets.FirstOrDefault(p => !WorkloadScenario.Presets.Contains(p) || p == "native") is { } unknown
            ? throw new ScenarioException($"{where}: presets: '{unknown}' is not a virtualization preset; the presets are: {string.Join(", ", WorkloadScenario.Presets.Where(p => p != "native"))}.")
            : presets;

    private static int CheckSeeds(int n, string where) => n is >= 1 and <= MostSeeds ? n
        : throw new ScenarioException($"{where}: seeds must be a whole number from 1 to {MostSeeds} (the seeds each probe runs; {DefaultSeeds} by default).");

    private static int CheckMaxGuests(int n, string where) => n is >= 1 and <= Runs.Consolidation.MaxGuests ? n
        : throw new ScenarioException($"{where}: max_guests must be a whole number from 1 to {Runs.Consolidation.MaxGuests}.");

    /// <summary>The scenario of <paramref name="guests"/> guests under <paramref name="preset"/>.</summary>
    public WorkloadScenario At(string preset, int guests)
    {
        WorkloadScenario scenario = Base with { Preset = preset, Guests = guests };
        if (Alongside.Count > 0)
        {
            // The searched guests first (the base's workload), then each group's, in the study's order.
            string searched = Base.Workload + string.Create(CultureInfo.InvariantCulture, $":{Base.ResolveWorkload().Size}");
            scenario = scenario with { Guests = guests + FixedGuests, GuestWorkloads = string.Join(",", Enumerable.Repeat(searched, guests - 1).Concat(Alongside.SelectMany(g => g.Items()))) };
        }
        if (scenario.Problem("preset") is null && scenario.Problem("profile") is null && scenario.ResolveAxes().Hosting != Models.Virtualization.Hosting.SharedKernel)
        {
            scenario = scenario.WithoutContainerLimits(); // the base's containers' limits are the oslevel preset's
        }
        if (Overcommit == "none" || scenario.Problem("preset") is not null || scenario.Problem("profile") is not null || !IsVm(scenario))
        {
            return scenario;
        }
        return scenario with
        {
            GuestMemoryBacking = "on_touch",
            BalloonMiB = Balloons ? BalloonMiB : scenario.BalloonMiB,
            BalloonAtBoot = Balloons || scenario.BalloonAtBoot, // the steady state a planner asks about: each balloon set as its VM booted
            KsmPagesToScan = Merges ? scenario.KsmPagesToScan ?? Models.Virtualization.MonitorParameters.DefaultKsmPagesToScan : scenario.KsmPagesToScan, // Linux's default where the base sets none
        };
    }


    /// <summary>The study as written beside its results, every default filled in.</summary>
    public IReadOnlyDictionary<string, object> Resolved() => new Dictionary<string, object>
    {
        ["name"] = Name, // so that the study rerun from its results folder's study.json is named as it was
        ["base"] = Base.Resolved().Where(kv => kv.Key is not ("preset" or "guests" or "cpu" or "mmu" or "io" or "hosting" or "repetitions" or "guest_workloads"))
            .ToDictionary(kv => kv.Key, kv => kv.Value),
        ["presets"] = Presets,
        ["slo"] = Slo.ToString(),
        ["max_guests"] = MaxGuests,
        ["seeds"] = Seeds,
        ["overcommit"] = Overcommit,
        ["overcommit_ratio"] = OvercommitRatio,
    }.Concat(Plot is null ? [] : [new KeyValuePair<string, object>("plot", Plot)])
     .Concat(Alongside.Count == 0 ? [] : [new KeyValuePair<string, object>("alongside", Alongside.Select(g => g.Resolved()).ToArray())]).ToDictionary();
}
