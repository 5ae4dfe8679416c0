namespace Sim.Models.Devices;

/// <summary>A network card as its link's far end sees it: frames it sends reach the peer, and the peer sends frames to it.</summary>
public interface INetworkCard
{
    /// <summary>Called when a frame the card sent reaches the peer, with its length and the UDP source port its header carries (<see cref="NetworkPeer"/> hands it to the service on that port).</summary>
    Action<int, ushort>? PeerReceives { get; set; }

    /// <summary>The peer sends a frame of <paramref name="bytes"/> towards the card, addressed to UDP port <paramref name="port"/> (written into the frame's header in the receive buffer).</summary>
    void PeerSends(int bytes, ushort port);
}
