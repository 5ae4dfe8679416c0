namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's paths for a container on a bridged network (<see cref="ContainerNetwork.Bridge"/>),
/// laid out in a text block of their own when the kernel gets its first such container, as the
/// <see cref="SwapRoutine"/>s are, so that a kernel without one keeps the older layout and its
/// results. The namespace's own IP and UDP processing is the stack's (NetworkSend and
/// NetworkReceive), once: the bridge forwards at layer 2.
/// </summary>
public enum BridgeRoutine
{
    /// <summary>
    /// A container's frame on its way out, after its stack handed it to its end of the veth pair:
    /// veth_xmit and the peer's netif_rx (enqueue_to_backlog with interrupts off), the backlog's
    /// softirq (process_backlog, __netif_receive_skb_core), br_handle_frame with the forwarding
    /// database's learning and lookup (br_fdb_update, br_fdb_find_rcu), br_forward and the host
    /// NIC's dev_queue_xmit through its qdisc (drivers/net/veth.c, net/bridge/br_input.c and
    /// br_forward.c, net/core/dev.c). The NIC's driver then transmits as natively.
    /// </summary>
    VethTransmit,

    /// <summary>
    /// A frame for a container, after the NIC's driver took it: __netif_receive_skb_core hands it to
    /// the bridge (br_handle_frame, the FDB lookup, br_forward), which transmits it on the
    /// container's veth (veth_xmit, netif_rx into the backlog), and the backlog's softirq receives it
    /// in the container's namespace (process_backlog, __netif_receive_skb_core), where the stack
    /// takes it as natively.
    /// </summary>
    BridgeReceive,
}
