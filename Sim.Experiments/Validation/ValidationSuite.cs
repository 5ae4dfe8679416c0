using System.Globalization;
using Sim.Experiments.Scenarios;
using Sim.Workloads.Nanobenchmarks;
using YamlDotNet.RepresentationModel;

namespace Sim.Experiments.Validation;

/// <summary>
/// The validation suite: a folder of reference experiments, one YAML file each (docs/validation.md
/// gives the keys), read in the order of their file names. A file with an unknown or missing key,
/// a value of the wrong type, conditions that cannot run, or an id another file has is refused
/// with the file, the line and what is wrong.
/// </summary>
public static class ValidationSuite
{
    public static readonly string[] Keys = ["id", "group", "quantity", "published", "unit", "source", "tolerance", "justification", "measure", "scale", "conditions"];

    private static readonly string[] Required = ["id", "group", "quantity", "published", "unit", "source", "tolerance", "justification", "measure", "conditions"];

    /// <summary>Every experiment of the suite in <paramref name="folder"/>.</summary>
    public static IReadOnlyList<ReferenceExperiment> Load(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
        {
            throw new ScenarioException($"{folder}: there is no validation suite here (a folder of .yaml files, docs/validation.md).");
        }
        string[] files = [.. Directory.GetFiles(folder, "*.yaml").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)];
        if (files.Length == 0)
        {
            throw new ScenarioException($"{folder}: the validation suite has no .yaml files.");
        }
        var experiments = new List<ReferenceExperiment>();
        foreach (string file in files)
        {
            ReferenceExperiment e = Parse(YamlFile.Read(file, "reference experiment"), Path.GetFileName(file));
            if (experiments.Exists(x => x.Id == e.Id))
            {
                throw new ScenarioException($"{Path.GetFileName(file)}: id '{e.Id}' is already used by another experiment of the suite.");
            }
            experiments.Add(e);
        }
        return experiments;
    }

    public static ReferenceExperiment Parse(string text, string source)
    {
        if (YamlFile.Root(text, source) is not YamlMappingNode root)
        {
            throw new ScenarioException($"{source}: a reference experiment is a mapping of the keys {string.Join(", ", Keys)}.");
        }
        var values = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach ((YamlNode keyNode, YamlNode valueNode) in root.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (Array.IndexOf(Keys, key) < 0)
            {
                throw new ScenarioException($"{source}, line {keyNode.Start.Line}: unknown key '{key}'; the keys are: {string.Join(", ", Keys)}.");
            }
            values[key] = valueNode;
        }
        if (Required.FirstOrDefault(k => !values.ContainsKey(k)) is { } missing)
        {
            throw new ScenarioException($"{source}: the key '{missing}' is missing; every experiment has {string.Join(", ", Required)}.");
        }
        string Text(string key) => values[key] is YamlScalarNode { Value: { Length: > 0 } v } ? v
            : throw new ScenarioException($"{source}, line {values[key].Start.Line}: '{key}' takes a single non-empty value.");
        double Number(string key, bool positive) =>
            double.TryParse(Text(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && (!positive || d > 0) && double.IsFinite(d) ? d
                : throw new ScenarioException($"{source}, line {values[key].Start.Line}: {key}: '{Text(key)}' is not a {(positive ? "positive " : "")}number.");
        TargetGroup group = Text("group") switch
        {
            "calibration" => TargetGroup.Calibration,
            "validation" => TargetGroup.Validation,
            string g => throw new ScenarioException($"{source}, line {values["group"].Start.Line}: group: '{g}' is neither calibration (used to set a parameter) nor validation (never used to)."),
        };
        double scale = values.ContainsKey("scale") ? Number("scale", positive: true) : 1;
        Measure measure = Measure.Parse(Text("measure"), scale)
            ?? throw new ScenarioException($"{source}, line {values["measure"].Start.Line}: measure: '{Text("measure")}' is not one of: {Measure.Choices}.");
        WorkloadScenario conditions = ScenarioFile.FromNode(values["conditions"], $"{source} (conditions)");
        if (measure.Kind == MeasureKind.CyclesPerOperation && Nanobenchmark.All.All(n => n.Name != conditions.Workload))
        {
            throw new ScenarioException($"{source}: measure nanobench needs a nanobenchmark ({string.Join(", ", Nanobenchmark.All.Select(n => n.Name))}), not '{conditions.Workload}'.");
        }
        double tolerance = Number("tolerance", positive: true);
        return new ReferenceExperiment(Text("id"), group, Text("quantity"), Number("published", positive: true), Text("unit"), Text("source"),
            tolerance, Text("justification"), measure, conditions);
    }
}
