using Sim.Engine.Time;

namespace Sim.Engine.Statistics;

/// <summary>
/// Every statistic of a simulation, by component path. Statistics are registered while the
/// machine is built and the registry is frozen when the run starts (as in gem5 and ZSim), so
/// that the set of rows a run writes is fixed before any event happens.
/// </summary>
public sealed class StatRegistry
{
    private readonly List<Statistic> _statistics = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public bool Frozen { get; private set; }

    public IReadOnlyList<Statistic> All => _statistics;

    /// <summary>The group of statistics of the component at <paramref name="path"/>.</summary>
    public StatGroup Group(string path) => new(this, StatGroup.ValidatePath(path));

    /// <summary>No more statistics may be registered after this; called when a run starts.</summary>
    public void Freeze() => Frozen = true;

    /// <summary>Every statistic's values at <paramref name="now"/>, ordered by path (ordinal), then registration order.</summary>
    public IReadOnlyList<StatSample> Snapshot(Tick now)
    {
        var samples = new List<StatSample>();
        foreach (Statistic s in _statistics.OrderBy(s => s.Path, StringComparer.Ordinal))
        {
            s.Collect(now, samples);
        }
        return samples;
    }

    /// <summary>Resets every statistic, as at the end of a warm-up.</summary>
    public void ResetAll(Tick now)
    {
        foreach (Statistic s in _statistics)
        {
            s.Reset(now);
        }
    }

    internal T Add<T>(T statistic)
        where T : Statistic
    {
        if (Frozen)
        {
            throw new InvalidOperationException(
                $"Statistic '{statistic.FullName}' was registered after the run started; register statistics while building the model.");
        }
        if (!_names.Add(statistic.FullName))
        {
            throw new InvalidOperationException($"Statistic '{statistic.FullName}' is registered twice.");
        }
        _statistics.Add(statistic);
        return statistic;
    }
}
