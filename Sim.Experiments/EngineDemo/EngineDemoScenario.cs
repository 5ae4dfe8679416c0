using Sim.Engine.Time;
using Sim.Models.Queueing;

namespace Sim.Experiments.EngineDemo;

/// <summary>
/// The engine demonstration that <c>virtsim run</c> performs until the machine model exists: an
/// M/M/c station (a pool of servers, think of a device model's worker threads) run for a
/// simulated span after a warm-up, repeated over seeds, and compared with Erlang C.
/// </summary>
public sealed record EngineDemoScenario
{
    public ulong Seed { get; init; } = 42;

    public int Repetitions { get; init; } = 5;

    public int Servers { get; init; } = 4;

    public double Utilization { get; init; } = 0.8;

    public Tick MeanServiceTime { get; init; } = Tick.FromMicroseconds(10);

    public Tick WarmUp { get; init; } = Tick.FromMilliseconds(100);

    public Tick Duration { get; init; } = Tick.FromSeconds(2);

    /// <summary>Trace records kept per repetition (0: no trace). Only the first repetition is traced.</summary>
    public int TraceCapacity { get; init; }

    public ServiceStationParameters Station =>
        new(Servers, Utilization * Servers / MeanServiceTime.TotalSeconds, MeanServiceTime);

    /// <summary>The seed of repetition <paramref name="index"/>: consecutive seeds from <see cref="Seed"/>.</summary>
    public ulong SeedOf(int index) => Seed + (ulong)index;

    public void Validate()
    {
        if (Repetitions is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(Repetitions), Repetitions, "Repetitions must lie in [1, 10000].");
        }
        if (!double.IsFinite(Utilization) || Utilization <= 0 || Utilization >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Utilization), Utilization,
                "Utilization must lie strictly between 0 and 1: at 1 or above the queue grows without bound.");
        }
        if (Duration <= Tick.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Duration), Duration, "The duration must be positive.");
        }
        if (TraceCapacity < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TraceCapacity), TraceCapacity, "The trace capacity cannot be negative.");
        }
        Station.Validate();
    }
}
