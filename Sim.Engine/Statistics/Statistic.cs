using Sim.Engine.Time;

namespace Sim.Engine.Statistics;

/// <summary>
/// A named measurement of a component, registered under the component's path
/// (<c>host.cpu0.dtlb</c> + <c>misses</c>), with its unit and a one-line description.
/// </summary>
public abstract class Statistic
{
    protected Statistic(string path, string name, string unit, string description)
    {
        Path = path;
        Name = name;
        Unit = unit;
        Description = description;
    }

    public string Path { get; }

    public string Name { get; }

    public string Unit { get; }

    public string Description { get; }

    public string FullName => Path + "." + Name;

    /// <summary>Appends this statistic's values, as seen at <paramref name="now"/>, to <paramref name="into"/>.</summary>
    public abstract void Collect(Tick now, ICollection<StatSample> into);

    /// <summary>Forgets what was measured so far, as after a warm-up; time-based statistics restart at <paramref name="now"/>.</summary>
    public abstract void Reset(Tick now);

    protected StatSample Sample(string statistic, double value) => new(Path, statistic, value, Unit);

    protected StatSample Sample(string statistic, double value, string unit) => new(Path, statistic, value, unit);
}
