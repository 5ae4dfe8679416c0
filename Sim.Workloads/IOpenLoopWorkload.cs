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
}
