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
    public static readonly string[] FileKeys = ["base", "presets", "slo", "max_guests", "plot"];

    /// <summary>The figure of merit <c>density.png</c> draws (the file's <c>plot:</c>, or <c>--metric</c>); null for the service level's.</summary>
    public string? Plot { get; init; }

    /// <summary>What <c>density.png</c> draws: the worst guest's service-level metric, or the guests' mean of <see cref="Plot"/>.</summary>
    public string PlotMetric => Plot ?? Slo.Metric;

    /// <summary>The presets compared when a study names none: those that consolidate guests (the VT-x hypervisors and containers).</summary>
    public static readonly string[] DefaultPresets = ["type1", "type2", "oslevel"];

    /// <summary>
    /// The built-in study (the source text's claim 7, "about ten times as many guests"): a web
    /// service at 500 requests a second per guest on one Nehalem core with 4 GiB, each virtual
    /// machine given 512 MiB, and a 99th-percentile response time of at most 2 ms. The rate, the
    /// memory sizes and the level are assumptions a study should replace with its own.
    /// </summary>
    public static DensityStudy Default { get; } = new("claim7-web", new WorkloadScenario
    {
        Workload = "web", Profile = "nehalem-x5570", RequestRate = 500, Size = 200, HostCores = 1, HostMemoryMiB = 4096, GuestMemoryMiB = 512,
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
        foreach ((YamlNode k, YamlNode v) in root.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            string where = $"{source}, line {v.Start.Line}";
            switch (key)
            {
                case "base":
                    YamlMappingNode node = v as YamlMappingNode ?? throw new ScenarioException($"{where}: base is a scenario mapping (the keys of docs/scenarios.md).");
                    if (node.Children.Keys.FirstOrDefault(c => c is YamlScalarNode { Value: "guests" or "guest_workloads" or "preset" or "repetitions" }) is { } bad)
                    {
                        throw new ScenarioException($"{source}, line {bad.Start.Line}: base: '{((YamlScalarNode)bad).Value}' is what the study varies or fixes itself; leave it out (presets are the study's own key).");
                    }
                    scenario = ScenarioFile.FromNode(node, $"{source} (base)");
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
                case "plot":
                    plot = v is YamlScalarNode { Value: { Length: > 0 } metric } ? (metric, where)
                        : throw new ScenarioException($"{where}: plot names the figure of merit density.png draws, such as requests.");
                    break;
                default:
                    throw new ScenarioException($"{source}, line {k.Start.Line}: unknown key '{key}'; a density study has {string.Join(", ", FileKeys)}.");
            }
        }
        var study = new DensityStudy(name, scenario ?? throw new ScenarioException($"{source}: base is missing; give the scenario of one guest."), presets,
            slo ?? throw new ScenarioException($"{source}: slo is missing; give the service level every guest must keep, such as 'response_p99 <= 2000'."), maxGuests);
        CheckFigure(study.Base, study.Slo.Metric, source, "slo");
        if (plot is { } p)
        {
            CheckFigure(study.Base, p.Metric, p.Where, "plot");
        }
        return study with { Plot = plot?.Metric };
    }

    /// <summary>Refuses a service level or a plot on a figure the base's workload does not report, before anything is simulated.</summary>
    private static void CheckFigure(WorkloadScenario scenario, string metric, string where, string key)
    {
        if (scenario.Problem("workload") is not null)
        {
            return; // the base's own error says what is wrong
        }
        IReadOnlyList<string> names = scenario.ResolveWorkload().Workload.FigureNames;
        if (!names.Contains(metric))
        {
            string hint = scenario.Workload == "web" && scenario.RequestRate is null ? " (web reports response times only with request_rate in the base)" : "";
            throw new ScenarioException($"{where}: {key}: {scenario.Workload} reports no figure of merit '{metric}'; it reports {string.Join(", ", names)}{hint}.");
        }
    }

    /// <summary>The study with the command line's overrides: presets (comma-separated), service level, maximum guests; null keeps the study's.</summary>
    public DensityStudy With(string? presets, string? slo, int? maxGuests, string? plot = null)
    {
        DensityStudy study = this with
        {
            Presets = presets is null ? Presets : CheckPresets(presets.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), "--presets"),
            Slo = slo is null ? Slo : ServiceLevel.Parse(slo, "--slo"),
            MaxGuests = maxGuests is { } m ? CheckMaxGuests(m, "--max-guests") : MaxGuests,
            Plot = plot ?? Plot,
        };
        CheckFigure(study.Base, study.Slo.Metric, slo is null ? Name : "--slo", "slo");
        CheckFigure(study.Base, study.PlotMetric, plot is null ? Name : "--metric", "plot");
        return study;
    }

    private static string[] CheckPresets(string[] presets, string where) =>
        presets.Length == 0 ? throw new ScenarioException($"{where}: give at least one preset, such as type1,oslevel.")
        : presets.FirstOrDefault(p => !WorkloadScenario.Presets.Contains(p) || p == "native") is { } unknown
            ? throw new ScenarioException($"{where}: presets: '{unknown}' is not a virtualization preset; the presets are: {string.Join(", ", WorkloadScenario.Presets.Where(p => p != "native"))}.")
            : presets;

    private static int CheckMaxGuests(int n, string where) => n is >= 1 and <= Runs.Consolidation.MaxGuests ? n
        : throw new ScenarioException($"{where}: max_guests must be a whole number from 1 to {Runs.Consolidation.MaxGuests}.");

    /// <summary>The scenario of <paramref name="guests"/> guests under <paramref name="preset"/>.</summary>
    public WorkloadScenario At(string preset, int guests) => Base with { Preset = preset, Guests = guests };

    /// <summary>The study as written beside its results, every default filled in.</summary>
    public IReadOnlyDictionary<string, object> Resolved() => new Dictionary<string, object>
    {
        ["base"] = Base.Resolved().Where(kv => kv.Key is not ("preset" or "guests" or "cpu" or "mmu" or "io" or "hosting" or "repetitions" or "guest_workloads"))
            .ToDictionary(kv => kv.Key, kv => kv.Value),
        ["presets"] = Presets,
        ["slo"] = Slo.ToString(),
        ["max_guests"] = MaxGuests,
    }.Concat(Plot is null ? [] : [new KeyValuePair<string, object>("plot", Plot)]).ToDictionary();
}
