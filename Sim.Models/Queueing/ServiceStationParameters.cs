using Sim.Engine.Time;

namespace Sim.Models.Queueing;

/// <summary>The parameters of a <see cref="ServiceStation"/>.</summary>
public sealed record ServiceStationParameters(int Servers, double ArrivalsPerSecond, Tick MeanServiceTime)
{
    /// <summary>Offered load per server, λ / (c μ); the station is stable below 1.</summary>
    public double Utilization => ArrivalsPerSecond * MeanServiceTime.TotalSeconds / Servers;

    public void Validate()
    {
        if (Servers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Servers), Servers, "A station needs at least one server.");
        }
        if (!double.IsFinite(ArrivalsPerSecond) || ArrivalsPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ArrivalsPerSecond), ArrivalsPerSecond, "The arrival rate must be positive.");
        }
        if (MeanServiceTime <= Tick.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MeanServiceTime), MeanServiceTime, "The mean service time must be positive.");
        }
    }
}
