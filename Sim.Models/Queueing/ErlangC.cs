namespace Sim.Models.Queueing;

/// <summary>
/// Exact steady-state results of the M/M/c queue (Erlang's C formula; see e.g. Kleinrock,
/// Queueing Systems vol. 1, 1975, section 3.5): the yardstick a <see cref="ServiceStation"/>
/// run is compared with.
/// </summary>
public static class ErlangC
{
    /// <summary>The probability that an arrival must wait, for c servers at offered load a = λ/μ (erlangs).</summary>
    public static double ProbabilityOfWaiting(int servers, double offeredLoad)
    {
        if (servers < 1 || offeredLoad <= 0 || offeredLoad >= servers)
        {
            throw new ArgumentOutOfRangeException(nameof(offeredLoad), offeredLoad,
                $"Erlang C needs 0 < load < servers ({servers}); at or above it the queue grows without bound.");
        }
        // Erlang B by its stable recurrence, then C from B.
        double b = 1.0;
        for (int k = 1; k <= servers; k++)
        {
            b = offeredLoad * b / (k + (offeredLoad * b));
        }
        double rho = offeredLoad / servers;
        return b / (1 - (rho * (1 - b)));
    }

    /// <summary>Mean time in the queue before service, in seconds.</summary>
    public static double MeanWaitSeconds(ServiceStationParameters p)
    {
        ArgumentNullException.ThrowIfNull(p);
        double mu = 1.0 / p.MeanServiceTime.TotalSeconds;
        double load = p.ArrivalsPerSecond / mu;
        return ProbabilityOfWaiting(p.Servers, load) / ((p.Servers * mu) - p.ArrivalsPerSecond);
    }

    /// <summary>Mean time from arrival to departure, in seconds.</summary>
    public static double MeanResponseSeconds(ServiceStationParameters p) =>
        MeanWaitSeconds(p) + p!.MeanServiceTime.TotalSeconds;

    /// <summary>Mean number waiting (Little's law on the wait).</summary>
    public static double MeanQueueLength(ServiceStationParameters p) => p.ArrivalsPerSecond * MeanWaitSeconds(p);
}
