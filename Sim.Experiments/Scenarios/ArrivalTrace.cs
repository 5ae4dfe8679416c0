using System.Globalization;
using CsvHelper;
using YamlDotNet.RepresentationModel;

namespace Sim.Experiments.Scenarios;

/// <summary>
/// A workload file's trace of arrival times (<c>arrival: {trace: PATH}</c>, docs/planning.md): a
/// CSV file whose column <c>arrival_us</c> holds each request's arrival in microseconds, in order,
/// from any origin (a server log's or a packet capture's timestamps), its path relative to the
/// workload file's folder. The client replays the gaps between them, from the first again once
/// they are used up.
/// </summary>
public static class ArrivalTrace
{
    public const string Column = "arrival_us";

    /// <summary>The most arrivals a trace may hold.</summary>
    public const int MostArrivals = 10_000_000;

    /// <summary>The path of the trace a workload file at <paramref name="source"/> names, or null when it names none (or cannot be read as YAML: its own load says why).</summary>
    public static string? Named(string text, string source)
    {
        try
        {
            return YamlFile.Root(text, source) is YamlMappingNode root
                && root.Children.TryGetValue(new YamlScalarNode("arrival"), out YamlNode? arrival) && arrival is YamlMappingNode a
                && a.Children.TryGetValue(new YamlScalarNode("trace"), out YamlNode? trace) && trace is YamlScalarNode { Value: { Length: > 0 } path }
                ? Resolve(path, source) : null;
        }
        catch (ScenarioException)
        {
            return null;
        }
    }

    private static string Resolve(string path, string source) => Path.Combine(Path.GetDirectoryName(source) ?? "", path);

    /// <summary>
    /// The gaps between the arrivals of the trace <paramref name="path"/> names (relative to the
    /// folder of <paramref name="source"/>, the workload file, given at <paramref name="line"/>), in
    /// microseconds; a missing file, another column, a value that is not a number or an arrival
    /// before the one above it is refused with the file and its line.
    /// </summary>
    public static IReadOnlyList<double> Gaps(string path, string source, long line)
    {
        ArgumentNullException.ThrowIfNull(path);
        string file = Resolve(path, source);
        string at = $"{source}, line {line}: arrival: trace";
        if (!File.Exists(file))
        {
            throw new ScenarioException($"{at}: there is no file '{file}' (the path is relative to the workload file's folder); a trace is a CSV file with a column {Column}.");
        }
        var arrivals = new List<double>();
        using (var reader = new StreamReader(file))
        using (var csv = new CsvReader(reader, new CsvHelper.Configuration.CsvConfiguration(CultureInfo.InvariantCulture)))
        {
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { } header || !header.Contains(Column))
            {
                throw new ScenarioException($"{at}: {file} has no column {Column} in its first line; a trace is a CSV file whose column {Column} holds each arrival in microseconds.");
            }
            while (csv.Read())
            {
                int row = csv.Parser.Row;
                string? field = csv.GetField(Column);
                if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double us) || !double.IsFinite(us) || us < 0)
                {
                    throw new ScenarioException($"{file}, line {row}: {Column} '{field}' is not a time in microseconds (a number at least 0).");
                }
                if (arrivals.Count > 0 && us < arrivals[^1])
                {
                    throw new ScenarioException($"{file}, line {row}: the arrival at {us.ToString(CultureInfo.InvariantCulture)} us comes before the one above it ({arrivals[^1].ToString(CultureInfo.InvariantCulture)} us); a trace's arrivals are in order.");
                }
                if (arrivals.Count == MostArrivals)
                {
                    throw new ScenarioException($"{file}: a trace holds at most {MostArrivals:N0} arrivals.");
                }
                arrivals.Add(us);
            }
        }
        if (arrivals.Count < 2 || arrivals[^1] == arrivals[0])
        {
            throw new ScenarioException($"{at}: {file} holds {arrivals.Count} arrival(s){(arrivals.Count >= 2 ? ", all at one time" : "")}; a trace needs at least two, not all at one time.");
        }
        return [.. arrivals.Zip(arrivals.Skip(1), (a, b) => b - a)];
    }
}
