using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// The machine at the far end of a NIC's link: it tells frames apart by the UDP port in their
/// header, as a host's stack does. A port with a client registered (<see cref="Serve"/>: a web
/// client, a load generator) hands it each frame from that port; any other frame is echoed back
/// to its port after the peer's turnaround (an echo server, what netperf's UDP_RR needs).
/// Several containers behind one NIC each have a port of their own, so each has its own client.
/// </summary>
public sealed class NetworkPeer
{
    private readonly Simulator _sim;
    private readonly string _name;
    private readonly INetworkCard _card;
    private readonly Tick _turnaround;
    private readonly Dictionary<ushort, Action<UdpFrame>> _clients = [];
    private readonly Dictionary<ushort, Action<bool>> _arrivals = [];

    public NetworkPeer(Simulator sim, string name, INetworkCard card, Tick turnaround)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(card);
        (_sim, _name, _card, _turnaround) = (sim, name, card, turnaround);
        card.PeerReceives = Receive;
        card.PeerFrameArrived = (port, taken) =>
        {
            if (_arrivals.TryGetValue(port, out Action<bool>? arrived))
            {
                arrived(taken);
            }
        };
    }

    /// <summary>The client on <paramref name="port"/> hears of each frame it sent as the card takes it (true) or drops it (false).</summary>
    public void Track(ushort port, Action<bool> arrived)
    {
        ArgumentNullException.ThrowIfNull(arrived);
        if (!_arrivals.TryAdd(port, arrived))
        {
            throw new InvalidOperationException($"The peer of {_name} already tracks port {port}.");
        }
    }

    /// <summary>Frames from <paramref name="port"/> go to <paramref name="receives"/> instead of the echo.</summary>
    public void Serve(ushort port, Action<UdpFrame> receives)
    {
        ArgumentNullException.ThrowIfNull(receives);
        if (!_clients.TryAdd(port, receives))
        {
            throw new InvalidOperationException($"The peer of {_name} already has a client on port {port}.");
        }
    }

    /// <summary>Sends <paramref name="frame"/> to its port now.</summary>
    public void Send(UdpFrame frame) => _card.PeerSends(frame);

    /// <summary>Sends <paramref name="frame"/> to its port after the peer's turnaround, as its stack answers what it has just received (an echo, an acknowledgement).</summary>
    public void Reply(UdpFrame frame) => _sim.Schedule(new CallbackEvent(_name + ".reply", () => _card.PeerSends(frame)), _sim.Now + _turnaround);

    /// <summary>A frame from the card: to the client on its port, or echoed back (id and all) after the turnaround.</summary>
    private void Receive(UdpFrame frame)
    {
        if (_clients.TryGetValue(frame.Port, out Action<UdpFrame>? client))
        {
            client(frame);
            return;
        }
        Reply(frame);
    }
}
