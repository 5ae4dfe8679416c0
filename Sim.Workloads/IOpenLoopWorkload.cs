namespace Sim.Workloads;

/// <summary>
/// A service whose clients can also arrive open-loop: requests at a given mean rate, each
/// independent of the answers (Poisson arrivals), as a service's many users do, instead of one
/// client waiting for each answer. What a service level is stated against.
/// </summary>
public interface IOpenLoopWorkload : IWorkload
{
    /// <summary>The same service, its client sending <paramref name="requestsPerSecond"/> requests a second on average.</summary>
    IWorkload AtRate(double requestsPerSecond);

    /// <summary>
    /// The response time of every answered request of a run, in microseconds, ascending, as its
    /// client measured it (from sending to the answer's last frame); empty under a closed-loop
    /// client, which does not measure them. The server's own kernel sees only the time from its
    /// sendto to its next recvfrom, which is mostly its idle time.
    /// </summary>
    IReadOnlyList<double> ResponseMicroseconds(WorkloadContext context);
}
