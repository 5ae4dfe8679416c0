using Sim.Engine;
using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// A full-duplex Ethernet link from a NIC to a peer: a frame occupies the line for its bits at the
/// link rate (plus preamble, start delimiter and inter-frame gap: 20 bytes of overhead, IEEE 802.3),
/// then arrives after the propagation delay. Frames queue behind one another in each direction:
/// the host's port under a hypervisor is one link that every guest's frames share
/// (<see cref="Platform.HostDevices"/>), and each frame's wait for the line is counted.
/// </summary>
public sealed class EthernetLink
{
    /// <summary>Preamble (7), start-of-frame delimiter (1) and inter-packet gap (12), in bytes (IEEE 802.3).</summary>
    public const int PerFrameOverheadBytes = 20;

    /// <summary>The headers before a UDP datagram's payload in a frame: Ethernet (14), IPv4 without options (20) and UDP (8), in bytes.</summary>
    public const int UdpHeaderBytes = 42;

    /// <summary>Where a frame's UDP source port lies: after the Ethernet (14) and IPv4 (20) headers, the UDP header's first field (RFC 768), big-endian on the wire, read and written here as a 2-byte field.</summary>
    public const int SourcePortOffset = 34;

    /// <summary>Where a frame's UDP destination port lies: the UDP header's second field (RFC 768).</summary>
    public const int DestinationPortOffset = 36;

    /// <summary>Where a frame's UDP payload starts, after the headers (<see cref="UdpHeaderBytes"/>); its first 32-bit word is a frame's <see cref="UdpFrame.Id"/>.</summary>
    public const int PayloadOffset = UdpHeaderBytes;

    private readonly Simulator _sim;
    private readonly Sim.Engine.Statistics.Counter? _lineNsTowardsPeer, _lineNsTowardsNic;
    private readonly Sim.Engine.Statistics.Histogram? _waitTowardsPeer, _waitTowardsNic;
    private Tick _towardsPeerFree;
    private Tick _towardsNicFree;

    /// <param name="name">The link's statistics group (how long the line was busy each way), or null for none.</param>
    public EthernetLink(Simulator sim, ulong bitsPerSecond, Tick propagation, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(sim);
        if (bitsPerSecond == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bitsPerSecond), "The link rate must be positive.");
        }
        _sim = sim;
        BitsPerSecond = bitsPerSecond;
        Propagation = propagation;
        if (name is not null)
        {
            Sim.Engine.Statistics.StatGroup stats = sim.Stats.Group(name);
            _lineNsTowardsPeer = stats.Counter("line_ns_to_peer", "ns", "time the line was busy carrying frames from the NIC to the peer, preamble and gap included");
            _lineNsTowardsNic = stats.Counter("line_ns_to_nic", "ns", "time the line was busy carrying frames from the peer to the NIC, preamble and gap included");
            _waitTowardsPeer = stats.Histogram("wait_to_peer", "ns", "each frame's wait for the line towards the peer, behind the frames before it (the transmit queue)");
            _waitTowardsNic = stats.Histogram("wait_to_nic", "ns", "each frame's wait for the line from the peer, behind the frames before it");
        }
    }

    public ulong BitsPerSecond { get; }

    public Tick Propagation { get; }

    /// <summary>The time a frame of <paramref name="bytes"/> occupies the line.</summary>
    public Tick SerializationTime(int bytes) =>
        new((ulong)Math.Ceiling((bytes + PerFrameOverheadBytes) * 8.0 * Tick.PicosecondsPerSecond / BitsPerSecond));

    /// <summary>Queues a frame towards the peer now; returns when its last bit leaves the NIC and when it reaches the peer.</summary>
    public (Tick Sent, Tick Arrives) SendTowardsPeer(int bytes) => Send(ref _towardsPeerFree, bytes, _lineNsTowardsPeer, _waitTowardsPeer);

    /// <summary>Queues a frame from the peer now; returns when it is sent and when it reaches the NIC.</summary>
    public (Tick Sent, Tick Arrives) SendTowardsNic(int bytes) => Send(ref _towardsNicFree, bytes, _lineNsTowardsNic, _waitTowardsNic);

    private (Tick Sent, Tick Arrives) Send(ref Tick lineFree, int bytes, Sim.Engine.Statistics.Counter? lineNs, Sim.Engine.Statistics.Histogram? wait)
    {
        Tick start = Tick.Max(_sim.Now, lineFree);
        wait?.Record((long)((start - _sim.Now).Picoseconds / 1000));
        Tick serialization = SerializationTime(bytes);
        Tick sent = start + serialization;
        lineFree = sent;
        lineNs?.Add((long)(serialization.Picoseconds / 1000));
        return (sent, sent + Propagation);
    }
}
