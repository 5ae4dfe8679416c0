namespace Sim.Models.Devices;

/// <summary>A network card as its link's far end sees it: frames it sends reach the peer, and the peer sends frames to it.</summary>
public interface INetworkCard
{
    /// <summary>Called when a frame the card sent reaches the peer, with its length, the UDP source port its header carries (<see cref="NetworkPeer"/> hands it to the service on that port) and its payload's first word.</summary>
    Action<UdpFrame>? PeerReceives { get; set; }

    /// <summary>
    /// Called when a frame the peer sent reaches the card, with the UDP port it is addressed to
    /// and whether a receive buffer took it (false: dropped for want of one). A real peer learns of
    /// a drop only when its request times out; the model tells it at once, so that a client can
    /// count the request lost and tell its answered requests apart, as one whose requests carry
    /// ids would.
    /// </summary>
    Action<ushort, bool>? PeerFrameArrived { get; set; }

    /// <summary>The peer sends <paramref name="frame"/> towards the card, addressed to its UDP port (written into the frame's header in the receive buffer, and its id into the payload).</summary>
    void PeerSends(UdpFrame frame);
}
