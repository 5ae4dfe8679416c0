using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// A paravirtual network card (virtio-net, virtio 1.1 section 5.1) with the virtio-mmio register
/// interface and two split virtqueues: queue 0 receives, queue 1 transmits. Each buffer is one
/// descriptor holding the 12-byte virtio_net_hdr and then the frame. The driver keeps the
/// receive queue filled with empty buffers; a frame from the link takes the next one, which comes
/// back through the used ring with the frame's length, and interrupts unless the driver has
/// turned receive interrupts off (NAPI polls the ring meanwhile). A kick makes the device take
/// every frame made available on the transmit queue and put it on the link; while frames are on
/// their way it asks for no kicks (VRING_USED_F_NO_NOTIFY), takes what is added meanwhile as each
/// leaves, and returns sent buffers through the used ring, which the driver reclaims on its next
/// send (the model's driver takes no transmit interrupts). The device wants no kicks for receive
/// buffers while it has some, as vhost-net does.
/// </summary>
/// <remarks>
/// Model: DMA moves no real payload (lengths, and the UDP ports of a frame's header); no feature negotiation beyond what the
/// model's driver writes, no mergeable receive buffers, offloads, control queue or event-index
/// suppression. Every kick is taken as one for the transmit queue (the model's driver kicks
/// nothing else), so a paravirtual kernel's event, which carries no queue number, works alike.
/// </remarks>
public sealed class VirtioNet : VirtioMmioDevice, INetworkCard
{
    public const int ReceiveQueue = 0, TransmitQueue = 1;

    /// <summary>struct virtio_net_hdr of virtio 1.x (with num_buffers), before every frame in a buffer.</summary>
    public const int HeaderBytes = 12;

    private readonly EthernetLink _link;
    private readonly Counter _framesSent;
    private readonly Counter _framesReceived;
    private readonly Counter _framesDropped;
    private int _sending;

    public VirtioNet(Simulator sim, string name, PhysicalMemory memory, EthernetLink link, int accessCycles, Action raiseInterrupt, Action lowerInterrupt, VirtioTransport transport = VirtioTransport.Mmio)
        : base(sim, name, memory, queues: 2, accessCycles, raiseInterrupt, lowerInterrupt, transport)
    {
        ArgumentNullException.ThrowIfNull(link);
        _link = link;
        _framesSent = Stats.Counter("frames_sent", "frames", "frames put on the link");
        _framesReceived = Stats.Counter("frames_received", "frames", "frames written to receive buffers");
        _framesDropped = Stats.Counter("frames_dropped", "frames", "frames from the peer with no receive buffer available");
    }

    public Action<UdpFrame>? PeerReceives { get; set; }

    public Action<ushort, bool>? PeerFrameArrived { get; set; }

    protected override uint DeviceType => 1; // network card (virtio 1.1, 5)

    protected override void Notified(int queue) => Kicked(TakeKick);

    /// <summary>A kick's work: the transmit queue taken, and the receive queue's kicks turned off once it has buffers.</summary>
    private void TakeKick()
    {
        Transmit();
        Virtqueue rx = Queues[ReceiveQueue];
        rx.SuppressNotifications(rx.HasAvailable); // refilled: no more kicks needed for receive buffers
    }

    /// <summary>A frame from the peer reaches the card: written to a receive buffer at once, or, with a backend thread, when the thread has read it from the host (the tap).</summary>
    public void PeerSends(UdpFrame frame)
    {
        (_, Tick arrives) = _link.SendTowardsNic(frame.Bytes);
        Sim.Schedule(new CallbackEvent(Name + ".rx", () => FromHost(() => Receive(frame)), EventPriority.DeviceUpdate), arrives);
    }

    /// <summary>Every frame made available on the transmit queue goes on the link; kicks are suppressed while any is on its way.</summary>
    private void Transmit()
    {
        Virtqueue tx = Queues[TransmitQueue];
        while (tx.TryTake(out ushort head))
        {
            (ulong buffer, uint length, _, _) = tx.Descriptor(head);
            var frame = UdpFrame.ReadSent(Memory, buffer + HeaderBytes, (int)length - HeaderBytes); // the frame after virtio_net_hdr
            Emulation?.Frame(); // the frame handed to the backend (virtio_net_flush_tx: qemu_sendv_packet_async, a write to the tap)
            (Tick sent, Tick arrives) = _link.SendTowardsPeer(frame.Bytes);
            if (Backend is not null)
            {
                // A backend thread's write to the tap returns once the host has the frame, and the buffer goes back at once
                // (QEMU's virtio_net_flush_tx, vhost-net's handle_tx without zero-copy): no wait for the wire.
                _framesSent.Increment();
                tx.PutUsed(head, 0);
            }
            else
            {
                _sending++;
                Sim.Schedule(new CallbackEvent(Name + ".sent", () => Sent(head), EventPriority.DeviceUpdate), sent);
            }
            if (PeerReceives is { } peer)
            {
                Sim.Schedule(new CallbackEvent(Name + ".at-peer", () => peer(frame), EventPriority.DeviceUpdate), arrives);
            }
        }
        tx.SuppressNotifications(_sending > 0);
    }

    /// <summary>A frame's last bit has left: its buffer goes back through the used ring, and frames added while kicks were suppressed are taken.</summary>
    private void Sent(ushort head)
    {
        _framesSent.Increment();
        _sending--;
        Queues[TransmitQueue].PutUsed(head, 0);
        Transmit();
    }

    /// <summary>A frame from the peer fills the next receive buffer, which comes back with its length; with no buffer it is dropped and kicks are asked for again.</summary>
    private void Receive(UdpFrame frame)
    {
        Virtqueue rx = Queues[ReceiveQueue];
        bool taken = rx.TryTake(out ushort head);
        PeerFrameArrived?.Invoke(frame.Port, taken);
        if (!taken)
        {
            _framesDropped.Increment();
            rx.SuppressNotifications(false);
            return;
        }
        (ulong buffer, _, _, _) = rx.Descriptor(head);
        frame.WriteReceived(Memory, buffer + HeaderBytes); // the frame after virtio_net_hdr
        Emulation?.Frame(); // a backend thread's read of the frame from the host (QEMU's tap read, vhost-net's tun_recvmsg)
        Emulation?.Write(buffer, frame.Bytes + HeaderBytes); // and its copy into the guest's buffer
        rx.PutUsed(head, (uint)(frame.Bytes + HeaderBytes));
        _framesReceived.Increment();
        Interrupt(rx);
    }
}
