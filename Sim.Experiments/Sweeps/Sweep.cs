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
    public static readonly string[] FileKeys = ["base", "grid", "seeds"];

    /// <summary>Each (point, seed) run of the sweep, in order: point by point, seed by seed.</summary>
    public IEnumerable<(SweepPoint Point, int SeedIndex)> Jobs() => Points.SelectMany(p => Enumerable.Range(0, Seeds).Select(s => (p, s)));

    public static Sweep Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Parse(YamlFile.Read(path, "sweep"), Path.GetFileName(path), Path.GetFileNameWithoutExtension(path));
    }

    public static Sweep Parse(string text, string source, string name)
    {
        if (YamlFile.Root(text, source) is not YamlMappingNode root)
        {
            throw new ScenarioException($"{source}: a sweep is a mapping of {string.Join(", ", FileKeys)}.");
        }
        YamlMappingNode baseNode = new();
        YamlMappingNode? grid = null;
        int seeds = 1;
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
                default:
                    throw new ScenarioException($"{source}, line {k.Start.Line}: unknown key '{key}'; a sweep has {string.Join(", ", FileKeys)}.");
            }
        }
        if (grid is null || grid.Children.Count == 0)
        {
            throw new ScenarioException($"{source}: the grid is missing or empty; give at least one scenario key with a list of values.");
        }
        var axes = new List<(string Key, string[] Values)>();
        foreach ((YamlNode k, YamlNode v) in grid.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            if (Array.IndexOf(WorkloadScenario.Keys, key) < 0 || key is "seed" or "repetitions")
            {
                throw new ScenarioException($"{source}, line {k.Start.Line}: '{key}' cannot be a grid axis; the axes are the scenario keys but seed and repetitions (use seeds): {string.Join(", ", WorkloadScenario.Keys.Where(x => x is not ("seed" or "repetitions")))}.");
            }
            if (v is not YamlSequenceNode { Children.Count: > 0 } list || list.Children.Any(c => c is not YamlScalarNode))
            {
                throw new ScenarioException($"{source}, line {v.Start.Line}: grid: {key} takes a non-empty list of values, such as [a, b].");
            }
            axes.Add((key, [.. list.Children.Select(c => ((YamlScalarNode)c).Value ?? "")]));
        }
        var points = new List<SweepPoint>();
        foreach (string[] combination in Combinations(axes.Select(a => a.Values).ToArray()))
        {
            int index = points.Count;
            var node = new YamlMappingNode();
            foreach ((YamlNode k, YamlNode v) in baseNode.Children)
            {
                if (!axes.Exists(a => a.Key == ((YamlScalarNode)k).Value))
                {
                    node.Add(k, v);
                }
            }
            var values = axes.Select((a, i) => (a.Key, combination[i])).ToList();
            foreach ((string key, string value) in values)
            {
                node.Add(key, value);
            }
            string where = $"{source} (point {index + 1}: {string.Join(", ", values.Select(v => $"{v.Key}={v.Item2}"))})";
            points.Add(new SweepPoint(index, $"p{index + 1:D4}", values, ScenarioFile.FromNode(node, where)));
        }
        return new Sweep(name, [.. axes.Select(a => a.Key)], points, seeds);
    }

    /// <summary>Every combination of one value per axis, the first axis varying slowest.</summary>
    private static IEnumerable<string[]> Combinations(string[][] axes)
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
