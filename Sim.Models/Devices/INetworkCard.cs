namespace Sim.Models.Devices;

/// <summary>A network card as its link's far end sees it: frames it sends reach the peer, and the peer sends frames to it.</summary>
public interface INetworkCard
{
    /// <summary>Called with a frame's length when a frame the card sent reaches the peer; by default the platform's peer echoes it after its turnaround.</summary>
    Action<int>? PeerReceives { get; set; }

    /// <summary>The peer sends a frame of <paramref name="bytes"/> towards the card.</summary>
    void PeerSends(int bytes);
}
