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

    /// <summary>
    /// Docker's default bridge network with its port published through NAT (-p): the bridge's
    /// path, and on each frame either way connection tracking, the NAT rewrite and the FORWARD
    /// chain's rules (<see cref="NatRoutine"/>).
    /// </summary>
    Nat,
}
