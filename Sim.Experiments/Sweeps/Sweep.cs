using System.Globalization;
using Sim.Experiments.Scenarios;
using YamlDotNet.RepresentationModel;

namespace Sim.Experiments.Sweeps;

/// <summary>One point of a sweep's grid: its number, its id (p0001 ...), the grid's values at it, in the grid's order, and its scenario.</summary>
public sealed record SweepPoint(int Index, string Id, IReadOnlyList<(string Key, string Value)> Values, WorkloadScenario Scenario);

/// <summary>
/// A sweep: a base scenario, a grid (scenario keys, each with its list of values; the points are
/// every combination, the first key varying slowest) and a number of seeds per point (seed,
/// seed + 1, ... of the base). Read from YAML (docs/sweeps.md); every point is checked as a
/// scenario file is before anything runs, with the point's values in the message.
/// </summary>
public sealed record Sweep(string Name, IReadOnlyList<string> Keys, IReadOnlyList<SweepPoint> Points, int Seeds)
{
    public static readonly string[] FileKeys = ["base", "grid", "seeds", "plot"];

    /// <summary>The figure of merit <c>sweep.png</c> draws (the file's <c>plot:</c>, or <c>--metric</c>); null for the first figure of the first point's workload.</summary>
    public string? Plot { get; init; }

    /// <summary>The metrics every run of the sweep reports: the figures of merit all its points' workloads share, simulated_seconds (the first guest's run, as its figures), last_guest_seconds (when the last guest's workload ended) and bottleneck_utilization (the busiest host resource's share of the run, <see cref="Runs.BindingResource"/>).</summary>
    public IReadOnlyList<string> Metrics() =>
        [.. Points.Select(p => p.Scenario.ResolveWorkload().Workload.FigureNames).Aggregate((a, b) => [.. a.Intersect(b)]), "simulated_seconds", "last_guest_seconds", "bottleneck_utilization"];

    /// <summary>
    /// The metric <c>sweep.png</c> draws: <see cref="Plot"/>; else, for a service under an
    /// open-loop client, its 99th-percentile response time (its first figure, the requests served a
    /// second, is the offered load until it saturates: a flat line); else the runs' first metric.
    /// </summary>
    public string PlotMetric => Plot ?? (Metrics().Contains("response_p99") ? "response_p99" : Metrics()[0]);

    /// <summary>The sweep drawing <paramref name="metric"/> instead (null keeps its own); a <see cref="ScenarioException"/> naming <paramref name="where"/> if no run reports it.</summary>
    public Sweep WithPlot(string? metric, string where) => metric is null ? this
        : Metrics().Contains(metric) ? this with { Plot = metric }
        : throw new ScenarioException($"{where}: the sweep's runs report no metric '{metric}'; they report {string.Join(", ", Metrics())}.");

    /// <summary>The most points a grid may have: each is checked as a scenario before anything runs, so a grid is refused past this before any is built.</summary>
    public const int MaxPoints = 100_000;

    /// <summary>
    /// The resolved sweep: every point's id, grid values and fully resolved scenario, and the seeds.
    /// What a sweep's folder is bound to (<see cref="SweepFolder"/>): two sweep files that run the
    /// same jobs have the same, whatever their spelling; an edit that changes a run changes it.
    /// </summary>
    public IReadOnlyDictionary<string, object> Resolved() => new Dictionary<string, object>
    {
        ["seeds"] = Seeds,
        ["keys"] = Keys,
        ["points"] = Points.Select(p => new Dictionary<string, object>
        {
            ["id"] = p.Id,
            ["values"] = p.Values.ToDictionary(v => v.Key, v => (object)v.Value),
            ["scenario"] = p.Scenario.Resolved(),
        }).ToArray(),
    };

    /// <summary>SHA-256 of the resolved sweep's JSON.</summary>
    public string Hash() => SweepFolder.Checksum(Output.JsonText.Of(Resolved()));

    /// <summary>The resolved sweep with its hash, as written to a sweep's folder.</summary>
    public string ResolvedJson() => Output.JsonText.Of(new Dictionary<string, object> { ["hash"] = Hash(), ["sweep"] = Resolved() });

    /// <summary>Each (point, seed) run of the sweep, in order: point by point, seed by seed.</summary>
    public IEnumerable<(SweepPoint Point, int SeedIndex)> Jobs() => Points.SelectMany(p => Enumerable.Range(0, Seeds).Select(s => (p, s)));

    public static Sweep Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Parse(YamlFile.Read(path, "sweep"), Path.GetFileName(path), Path.GetFileNameWithoutExtension(path));
    }

    public static Sweep Parse(string text, string source, string name)
    {
        YamlMappingNode root = YamlFile.Root(text, source) switch
        {
            YamlMappingNode mapping => mapping,
            null or YamlScalarNode { Value: null or "" } => throw new ScenarioException($"{source}: the file holds no sweep (it is empty or only comments); a sweep is a mapping of {string.Join(", ", FileKeys)}."),
            YamlNode other => throw new ScenarioException($"{source}, line {other.Start.Line}: a sweep is a mapping of {string.Join(", ", FileKeys)}."),
        };
        YamlMappingNode? baseNode = null;
        YamlMappingNode? grid = null;
        int seeds = 1;
        (string Metric, string Where)? plot = null;
        foreach ((YamlNode k, YamlNode v) in root.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            switch (key)
            {
                case "base":
                    baseNode = v as YamlMappingNode ?? throw new ScenarioException($"{source}, line {v.Start.Line}: base is a scenario mapping (the keys of docs/scenarios.md).");
                    break;
                case "grid":
                    grid = v as YamlMappingNode ?? throw new ScenarioException($"{source}, line {v.Start.Line}: grid maps scenario keys to lists of values.");
                    break;
                case "seeds":
                    seeds = v is YamlScalarNode { Value: { } s } && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 1000 ? n
                        : throw new ScenarioException($"{source}, line {v.Start.Line}: seeds must be a whole number from 1 to 1000.");
                    break;
                case "plot":
                    plot = v is YamlScalarNode { Value: { Length: > 0 } metric } ? (metric, $"{source}, line {v.Start.Line}")
                        : throw new ScenarioException($"{source}, line {v.Start.Line}: plot names the figure of merit sweep.png draws, such as response_p99.");
                    break;
                default:
                    throw new ScenarioException($"{source}, line {k.Start.Line}: unknown key '{key}'; a sweep has {string.Join(", ", FileKeys)}.");
            }
        }
        if (grid is null || grid.Children.Count == 0)
        {
            throw new ScenarioException($"{source}: the grid is missing or empty; give at least one scenario key with a list of values.");
        }
        var axes = new List<Axis>();
        foreach ((YamlNode k, YamlNode v) in grid.Children)
        {
            axes.Add(ReadAxis(source, k as YamlScalarNode ?? throw new ScenarioException($"{source}, line {k.Start.Line}: a grid axis is named by a scenario key or a name, not a list or mapping."), v));
        }
        var setBy = new Dictionary<string, string>(StringComparer.Ordinal); // each scenario key the grid sets, and the axis that sets it
        foreach (Axis axis in axes)
        {
            foreach (string key in axis.Choices.SelectMany(c => c.Settings.Select(s => ((YamlScalarNode)s.Key).Value!)).Distinct(StringComparer.Ordinal))
            {
                if (!setBy.TryAdd(key, axis.Name))
                {
                    throw new ScenarioException($"{source}, line {axis.Line}: grid: {axis.Name} sets {key}, which the axis {setBy[key]} sets too; let one axis set each key.");
                }
            }
        }
        if (baseNode is null)
        {
            throw new ScenarioException($"{source}: base is missing; give the scenario the grid varies (base: {{}} for every default).");
        }
        if (baseNode.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: "repetitions" }) is { } repetitions)
        {
            throw new ScenarioException($"{source}, line {repetitions.Start.Line}: a sweep's base cannot hold repetitions; a sweep runs each point at seeds: N seeds.");
        }
        double count = axes.Aggregate(1.0, (n, a) => n * a.Choices.Length);
        if (count > MaxPoints)
        {
            throw new ScenarioException(string.Create(CultureInfo.InvariantCulture, $"{source}: the grid has {count:G6} points, more than the {MaxPoints:N0} a sweep may have; split it into several sweeps."));
        }
        var points = new List<SweepPoint>();
        foreach (Choice[] combination in Combinations(axes.Select(a => a.Choices).ToArray()))
        {
            int index = points.Count;
            // The base, but for what this point's choices set; then those settings, the grid's own
            // nodes, so that an error in one names its line. A key one case sets and another does
            // not keeps the base's value in the other.
            (YamlNode Key, YamlNode Value)[] settings = [.. combination.SelectMany(c => c.Settings)];
            var node = new YamlMappingNode();
            foreach ((YamlNode k, YamlNode v) in baseNode.Children)
            {
                if (!Array.Exists(settings, s => ((YamlScalarNode)s.Key).Value == ((YamlScalarNode)k).Value))
                {
                    node.Add(k, v);
                }
            }
            foreach ((YamlNode k, YamlNode v) in settings)
            {
                node.Add(k, v);
            }
            var values = axes.Select((a, i) => (a.Name, combination[i].Label)).ToList();
            string where = $"{source} (point {index + 1}: {string.Join(", ", values.Select(v => $"{v.Name}={v.Label}"))})";
            points.Add(new SweepPoint(index, $"p{index + 1:D4}", values, ScenarioFile.FromNode(node, where)));
        }
        var sweep = new Sweep(name, [.. axes.Select(a => a.Name)], points, seeds);
        return plot is { } p ? sweep.WithPlot(p.Metric, p.Where) : sweep;
    }

    /// <summary>One value of a grid axis: its label in the tables, and the scenario keys it sets (the grid's own nodes).</summary>
    private sealed record Choice(string Label, (YamlNode Key, YamlNode Value)[] Settings);

    /// <summary>A grid axis: a scenario key with its list of values, or a named axis of cases, each setting several keys.</summary>
    private sealed record Axis(string Name, long Line, Choice[] Choices);

    private static readonly string[] GridKeys = [.. WorkloadScenario.Keys.Where(x => x is not ("seed" or "repetitions"))];

    /// <summary>
    /// One axis of the grid: a scenario key with a list of values (<c>guests: [1, 2, 4]</c>), or a
    /// name that is no scenario key with a mapping of cases, each a mapping of scenario keys that
    /// the case sets together (<c>split: {one-vm: {vcpus: 4, jobs: 4}, four-vms: {guests: 4, jobs: 1}}</c>):
    /// a comparison whose points differ in several keys at once.
    /// </summary>
    private static Axis ReadAxis(string source, YamlScalarNode keyNode, YamlNode value)
    {
        string key = keyNode.Value ?? "";
        long line = keyNode.Start.Line;
        if (key is "seed" or "repetitions")
        {
            throw new ScenarioException($"{source}, line {line}: '{key}' cannot be a grid axis; a sweep runs each point at seeds: N seeds.");
        }
        if (Array.IndexOf(GridKeys, key) >= 0)
        {
            if (value is not YamlSequenceNode { Children.Count: > 0 } list || list.Children.Any(c => c is not YamlScalarNode))
            {
                throw new ScenarioException($"{source}, line {value.Start.Line}: grid: {key} takes a non-empty list of values, such as [a, b].");
            }
            return new Axis(key, line, [.. list.Children.Cast<YamlScalarNode>().Select(v => new Choice(v.Value ?? "", [(keyNode, v)]))]);
        }
        if (value is not YamlMappingNode { Children.Count: > 0 } cases)
        {
            throw new ScenarioException($"{source}, line {line}: '{key}' cannot be a grid axis with a list: it is no scenario key. The keys a grid may list values of are: {string.Join(", ", GridKeys)}. A name that is no scenario key may head an axis of cases instead: a mapping of case names, each to the scenario keys it sets (docs/sweeps.md).");
        }
        var choices = new List<Choice>();
        foreach ((YamlNode name, YamlNode settings) in cases.Children)
        {
            string label = (name as YamlScalarNode)?.Value ?? "";
            if (settings is not YamlMappingNode { Children.Count: > 0 } keys)
            {
                throw new ScenarioException($"{source}, line {settings.Start.Line}: grid: {key}: the case '{label}' is a mapping of the scenario keys it sets, such as {{guests: 4, jobs: 1}}.");
            }
            foreach (YamlNode k in keys.Children.Keys)
            {
                if (Array.IndexOf(GridKeys, (k as YamlScalarNode)?.Value) < 0)
                {
                    throw new ScenarioException($"{source}, line {k.Start.Line}: grid: {key}: the case '{label}' sets '{(k as YamlScalarNode)?.Value}', which a case cannot set; a case sets the scenario keys but seed and repetitions: {string.Join(", ", GridKeys)}.");
                }
            }
            choices.Add(new Choice(label, [.. keys.Children.Select(c => (c.Key, c.Value))]));
        }
        return new Axis(key, line, [.. choices]);
    }

    /// <summary>Every combination of one value per axis, the first axis varying slowest.</summary>
    private static IEnumerable<Choice[]> Combinations(Choice[][] axes)
    {
        var index = new int[axes.Length];
        while (true)
        {
            yield return [.. axes.Select((a, i) => a[index[i]])];
            int k = axes.Length - 1;
            while (k >= 0 && ++index[k] == axes[k].Length)
            {
                index[k] = 0;
                k--;
            }
            if (k < 0)
            {
                yield break;
            }
        }
    }
}
