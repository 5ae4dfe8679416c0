using System.Globalization;
using Sim.Experiments.Scenarios;
using YamlDotNet.RepresentationModel;

namespace Sim.Experiments.Density;

/// <summary>
/// Guests of another workload that share the host with the ones a density study searches (a
/// study's <c>alongside</c>): a fixed number of them, each keeping its own service level. The
/// search then answers "how many of the base's guests can join these", and every probe holds the
/// group to its level as it holds the searched guests to theirs (docs/density.md, "Mixed hosts").
/// </summary>
/// <param name="Name">The group's name in the report (its workload's by default).</param>
/// <param name="Workload">A built-in workload or a workload file (<c>file:PATH</c>).</param>
/// <param name="Guests">How many guests of it the host runs, whatever the searched count.</param>
/// <param name="Slo">The level each of its guests must keep.</param>
/// <param name="Size">Its size per guest; null for the workload's default.</param>
/// <param name="RequestRate">Its open-loop client's requests a second; null for the base's <c>request_rate</c>, as every guest's.</param>
public sealed record GuestGroup(string Name, string Workload, int Guests, ServiceLevel Slo, long? Size, double? RequestRate)
{
    public static readonly string[] Keys = ["name", "workload", "guests", "slo", "size", "request_rate"];

    /// <summary>The group's guests as entries of a scenario's <c>guest_workloads</c> (<c>NAME[:SIZE][@RATE]</c>).</summary>
    public IEnumerable<string> Items() => Enumerable.Repeat(Workload
        + (Size is { } size ? string.Create(CultureInfo.InvariantCulture, $":{size}") : "")
        + (RequestRate is { } rate ? string.Create(CultureInfo.InvariantCulture, $"@{rate:R}") : ""), Guests);

    /// <summary>One guest of the group alone on <paramref name="base"/>'s host.</summary>
    public WorkloadScenario Alone(WorkloadScenario @base)
    {
        ArgumentNullException.ThrowIfNull(@base);
        WorkloadScenario alone = @base with { Workload = Workload, Size = Size, RequestRate = RequestRate ?? @base.RequestRate };
        return RequestRate is null && alone.Problem("request_rate") is not null ? alone with { RequestRate = null } : alone; // the base's rate is for services only, as it is on the mixed host

    }

    /// <summary>The group as written beside the study's results.</summary>
    public IReadOnlyDictionary<string, object> Resolved()
    {
        var resolved = new Dictionary<string, object> { ["name"] = Name, ["workload"] = Workload, ["guests"] = Guests, ["slo"] = Slo.ToString() };
        if (Size is { } size)
        {
            resolved["size"] = size; // left out, the workload's default
        }
        if (RequestRate is { } rate)
        {
            resolved["request_rate"] = rate; // left out, the base's
        }
        return resolved;
    }

    /// <summary>Reads one entry of a study's <c>alongside</c> list; <paramref name="source"/> names the file in errors.</summary>
    public static GuestGroup Parse(YamlNode node, string source)
    {
        ArgumentNullException.ThrowIfNull(node);
        string at = $"{source}, line {node.Start.Line}";
        YamlMappingNode map = node as YamlMappingNode
            ?? throw new ScenarioException($"{at}: each entry of alongside is a mapping of {string.Join(", ", Keys)}, such as {{workload: web, guests: 4, slo: 'response_p99 <= 2000'}}.");
        string? name = null, workload = null;
        int? guests = null;
        ServiceLevel? slo = null;
        long? size = null;
        double? rate = null;
        foreach ((YamlNode k, YamlNode v) in map.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            string where = $"{source}, line {v.Start.Line}";
            string? text = (v as YamlScalarNode)?.Value;
            switch (key)
            {
                case "name":
                    name = text is { Length: > 0 and <= 60 } ? text : throw new ScenarioException($"{where}: alongside: name is the group's name in the report, 1 to 60 characters.");
                    break;
                case "workload":
                    workload = text is { Length: > 0 } && !text.Contains(',') && !text.Contains('@')
                        ? text : throw new ScenarioException($"{where}: alongside: workload is a built-in workload (see 'virtsim workloads') or file:PATH, without ',' or '@'.");
                    break;
                case "guests":
                    guests = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n is >= 1 and < Runs.Consolidation.MaxGuests ? n
                        : throw new ScenarioException($"{where}: alongside: guests is how many guests of the group the host runs, 1 to {Runs.Consolidation.MaxGuests - 1}.");
                    break;
                case "slo":
                    slo = ServiceLevel.Parse(text ?? "", where);
                    break;
                case "size":
                    size = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long z) && z >= 1 ? z
                        : throw new ScenarioException($"{where}: alongside: size is the workload's size per guest, a positive whole number.");
                    break;
                case "request_rate":
                    rate = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && double.IsFinite(r) && r > 0 ? r
                        : throw new ScenarioException($"{where}: alongside: request_rate is the group's requests a second per guest, a positive number.");
                    break;
                default:
                    throw new ScenarioException($"{source}, line {k.Start.Line}: alongside: unknown key '{key}'; a group of guests has {string.Join(", ", Keys)}.");
            }
        }
        string missing = workload is null ? "workload" : guests is null ? "guests" : slo is null ? "slo" : "";
        return missing.Length > 0
            ? throw new ScenarioException($"{at}: alongside: {missing} is missing; a group gives its workload, how many guests of it, and the level they keep.")
            : new GuestGroup(name ?? NameOf(workload!), workload!, guests!.Value, slo!, size, rate);
    }

    /// <summary>A workload's name in a report: a workload file's name without its folder and extension, a built-in workload's own.</summary>
    public static string NameOf(string workload) =>
        WorkloadFile.Names(workload) ? Path.GetFileNameWithoutExtension(workload[WorkloadFile.Prefix.Length..]) : workload;
}
