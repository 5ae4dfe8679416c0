namespace Sim.Engine.Statistics;

/// <summary>
/// The statistics of one component (gem5's stat group): creates them under the component's
/// path, such as <c>host.cpu0.dtlb</c>, and makes groups for its sub-components.
/// </summary>
public sealed class StatGroup
{
    private readonly StatRegistry _registry;

    internal StatGroup(StatRegistry registry, string path)
    {
        _registry = registry;
        Path = path;
    }

    public string Path { get; }

    public StatGroup Child(string name) => new(_registry, ValidatePath(Path + "." + name));

    public Counter Counter(string name, string unit, string description) =>
        _registry.Add(new Counter(Path, ValidateName(name), unit, description));

    public VectorCounter<TEnum> VectorCounter<TEnum>(string name, string unit, string description)
        where TEnum : struct, Enum =>
        _registry.Add(new VectorCounter<TEnum>(Path, ValidateName(name), unit, description));

    /// <summary>A count the owner keeps itself, read through <paramref name="read"/> (<see cref="Statistics.Probe"/>).</summary>
    public Probe Probe(string name, string unit, string description, Func<long> read) =>
        _registry.Add(new Probe(Path, ValidateName(name), unit, description, read ?? throw new ArgumentNullException(nameof(read))));

    public Histogram Histogram(string name, string unit, string description) =>
        _registry.Add(new Histogram(Path, ValidateName(name), unit, description));

    public TimeAverage TimeAverage(string name, string unit, string description) =>
        _registry.Add(new TimeAverage(Path, ValidateName(name), unit, description));

    /// <summary>A path is dot-separated segments of letters, digits, '_' and '-'.</summary>
    internal static string ValidatePath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        foreach (string segment in path.Split('.'))
        {
            if (segment.Length == 0 || !segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                throw new ArgumentException(
                    $"'{path}' is not a component path: use dot-separated segments of letters, digits, '_' and '-' (like host.cpu0.dtlb).",
                    nameof(path));
            }
        }
        return path;
    }

    private static string ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"'{name}' is not a statistic name: use letters, digits and '_'.", nameof(name));
        }
        return name;
    }
}
