namespace Sim.Models.Kernel;

/// <summary>How a container's network namespace reaches the host's NIC (Docker's --network).</summary>
public enum ContainerNetwork
{
    /// <summary>
    /// A veth pair from the container's namespace into a Linux bridge that the host's NIC is a port
    /// of (Docker's default bridge network, without its NAT): every frame crosses the veth pair and
    /// the bridge each way (<see cref="BridgeRoutine"/>).
    /// </summary>
    Bridge,

    /// <summary>The host's own network namespace (--network host): frames go straight between the stack and the NIC's driver, as natively.</summary>
    Host,
}
