namespace Sim.Models.Virtualization;

/// <summary>The policy that schedules virtual CPUs on the host's cores (the scenario key <c>host_scheduler</c>).</summary>
public enum HostScheduler
{
    /// <summary>Xen's credit scheduler (<see cref="CreditScheduler"/>).</summary>
    Credit,

    /// <summary>Linux's completely fair scheduler, under which KVM's virtual CPUs run as threads of the host (<see cref="FairScheduler"/>).</summary>
    Cfs,
}
