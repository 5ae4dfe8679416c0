using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// A 10 GbE controller with many queues and receive-side scaling, after the Intel 82599 (Intel
/// 82599 10 GbE Controller Datasheet, 331520; register offsets as Linux's ixgbe names them in
/// drivers/net/ethernet/intel/ixgbe/ixgbe_type.h): a receive and a transmit ring per queue,
/// RDBAL/RDBAH/RDLEN/RDH/RDT/RXDCTL at 0x01000 + 0x40n and TDBAL/.../TDT/TXDCTL at 0x06000 + 0x40n,
/// the extended interrupt registers EICR 0x00800, EIAC 0x00810, EIMS 0x00880, EIMC 0x00888 and
/// EIAM 0x00890, and RSS: MRQC 0x05818, the redirection table RETA at 0x05C00 (128 one-byte
/// entries, four a register) and the 40-byte hash key RSSRK at 0x05C80. A frame from the peer is
/// hashed (Toeplitz, over its IPv4 addresses and ports), the hash's low seven bits pick a RETA
/// entry, and the entry's queue takes the frame into its next free buffer, writing back the
/// advanced descriptor (the hash; DD and EOP; the length) and raising the queue's cause in EICR.
/// Each queue's cause is an MSI-X message to the CPU the driver gave it, masked by EIMS; with
/// EIAM and EIAC set for the queue, as ixgbe sets them, sending the message masks the cause and
/// clears it, so the driver's handler reads nothing, and its poll re-enables the cause with one
/// EIMS write. A transmit ring's TDT write sends each frame up to it and writes back DD where the
/// descriptor asks (RS).
/// </summary>
/// <remarks>
/// Model: the rings' advanced descriptors (16 bytes) carry what the model's frames need: the
/// buffer, the length, the status; DMA moves no payload but the frame's UDP ports and id, and
/// bypasses the caches, as the e1000's. No interrupt moderation (EITR: every cause a message at
/// once; ixgbe's default adapts its interrupt rate), no Flow Director, no transmit interrupts (the
/// driver reclaims nothing), no offloads, and the MSI-X table is set through
/// <see cref="SetMessage"/> rather than its BAR. The frames' addresses are the peer's and the
/// host's of <see cref="PeerAddress"/> and <see cref="HostAddress"/>, and the peer's client for a
/// service sends from <see cref="PeerPortOf"/>.
/// </remarks>
public sealed class Nic82599 : IMmioDevice, INetworkCard
{
    public const ulong Eicr = 0x00800, Eiac = 0x00810, Eims = 0x00880, Eimc = 0x00888, Eiam = 0x00890;
    public const ulong ReceiveQueues = 0x01000, TransmitQueues = 0x06000, QueueStride = 0x40;

    /// <summary>A queue's registers, from its block's start: the ring's base (low, high), length, head, tail, control.</summary>
    public const ulong Dbal = 0x00, Dbah = 0x04, Dlen = 0x08, Dh = 0x10, Dt = 0x18, Dctl = 0x28;

    public const ulong Mrqc = 0x05818, Reta = 0x05C00, Rssrk = 0x05C80;
    public const ulong Size = 0x20000;

    /// <summary>RXDCTL.ENABLE and TXDCTL.ENABLE.</summary>
    public const uint QueueEnable = 1u << 25;

    /// <summary>MRQC's MRQE for RSS alone, and its hash fields: IPv4 addresses, and TCP and UDP ports over IPv4 (IXGBE_MRQC_RSSEN, IXGBE_MRQC_RSS_FIELD_*).</summary>
    public const uint MrqcRss = 0x1, MrqcIpv4 = 0x0002_0000, MrqcIpv4Tcp = 0x0001_0000, MrqcIpv4Udp = 0x0040_0000;

    /// <summary>The advanced receive descriptor's write-back status: descriptor done, end of packet (IXGBE_RXD_STAT_DD, _EOP).</summary>
    public const uint ReceiveDone = 0x01, ReceiveEnd = 0x02;

    /// <summary>The advanced transmit descriptor's command bits in cmd_type_len (bits 31:24): end of packet, insert FCS, report status, extended descriptor (IXGBE_TXD_CMD_*), and its type, data (IXGBE_ADVTXD_DTYP_DATA).</summary>
    public const uint TransmitEnd = 0x0100_0000, TransmitFcs = 0x0200_0000, TransmitReport = 0x0800_0000, TransmitExtended = 0x2000_0000, TransmitData = 0x0030_0000;

    /// <summary>The queues RSS spreads frames over on an 82599 (IXGBE_MAX_RSS_INDICES).</summary>
    public const int MostQueues = 16;

    /// <summary>The redirection table's entries.</summary>
    public const int RedirectionEntries = 128;

    /// <summary>The RSS hash key's bytes.</summary>
    public const int KeyBytes = 40;

    /// <summary>The host's and the peer's IPv4 addresses in the frames the model hashes (assumed: any two addresses of one subnet).</summary>
    public static readonly byte[] HostAddress = [10, 0, 0, 1], PeerAddress = [10, 0, 0, 2];

    private const int DescriptorBytes = 16;

    private readonly Simulator _sim;
    private readonly PhysicalMemory _memory;
    private readonly EthernetLink _link;
    private readonly int _accessCycles;
    private readonly Action<int, int> _message;
    private readonly Ring[] _rx = new Ring[MostQueues];
    private readonly Ring[] _tx = new Ring[MostQueues];
    private readonly (int Cpu, int Vector)?[] _messages = new (int, int)?[MostQueues];
    private readonly byte[] _reta = new byte[RedirectionEntries];
    private readonly byte[] _key = new byte[KeyBytes];
    private readonly Counter _framesSent;
    private readonly Counter _framesReceived;
    private readonly Counter _framesDropped;
    private readonly Counter _interrupts;
    private readonly Counter _accesses;
    private readonly VectorCounter<QueueIndex> _framesByQueue;
    private uint _mrqc, _eicr, _eims, _eiac, _eiam;

    /// <param name="message">Sends an MSI-X message: the vector to the logical CPU.</param>
    public Nic82599(Simulator sim, string name, PhysicalMemory memory, EthernetLink link, int accessCycles, Action<int, int> message)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(link);
        ArgumentNullException.ThrowIfNull(message);
        (_sim, Name, _memory, _link, _accessCycles, _message) = (sim, name, memory, link, accessCycles, message);
        for (int q = 0; q < MostQueues; q++)
        {
            (_rx[q], _tx[q]) = (new Ring(), new Ring());
        }
        StatGroup stats = sim.Stats.Group(name);
        _framesSent = stats.Counter("frames_sent", "frames", "frames put on the link");
        _framesReceived = stats.Counter("frames_received", "frames", "frames written to receive buffers");
        _framesDropped = stats.Counter("frames_dropped", "frames", "frames from the peer with no free receive buffer in their queue");
        _interrupts = stats.Counter("interrupts", "count", "MSI-X messages sent");
        _accesses = stats.Counter("accesses", "count", "register accesses");
        _framesByQueue = stats.VectorCounter<QueueIndex>("frames_by_queue", "frames", "frames received, by the receive queue RSS chose");
    }

    public string Name { get; }

    public Action<UdpFrame>? PeerReceives { get; set; }

    public Action<ushort, bool>? PeerFrameArrived { get; set; }

    /// <summary>The port the peer's client for the service on <paramref name="servicePort"/> sends from: Linux's first ephemeral port (ip_local_port_range, 32768) plus the service port's low ten bits (assumed: one client a service).</summary>
    public static ushort PeerPortOf(ushort servicePort) => (ushort)(32768 + (servicePort & 0x3FF));

    /// <summary>Queue <paramref name="queue"/>'s MSI-X table entry: its cause is <paramref name="vector"/> to <paramref name="cpu"/> (the PCI core's programming of the entry, pci_msix_write_msg).</summary>
    public void SetMessage(int queue, int cpu, int vector) => _messages[CheckQueue(queue)] = (cpu, vector);

    public (ulong Value, int Cycles) Read(ulong offset)
    {
        _accesses.Increment();
        ulong value = offset switch
        {
            Eicr => ReadAndClearCause(),
            Eims => _eims,
            Eiac => _eiac,
            Eiam => _eiam,
            Mrqc => _mrqc,
            >= Reta and < Rssrk => ReadBytes(_reta, (int)(offset - Reta)),
            >= Rssrk and < Rssrk + KeyBytes => ReadBytes(_key, (int)(offset - Rssrk)),
            >= ReceiveQueues and < ReceiveQueues + (MostQueues * QueueStride) => _rx[(int)((offset - ReceiveQueues) / QueueStride)].Read(offset % QueueStride),
            >= TransmitQueues and < TransmitQueues + (MostQueues * QueueStride) => _tx[(int)((offset - TransmitQueues) / QueueStride)].Read(offset % QueueStride),
            _ => 0,
        };
        return (value, _accessCycles);
    }

    public int Write(ulong offset, ulong value)
    {
        _accesses.Increment();
        uint v = (uint)value;
        switch (offset)
        {
            case Eims:
                _eims |= v;
                RaisePending();
                break;
            case Eimc:
                _eims &= ~v;
                break;
            case Eiac:
                _eiac = v;
                break;
            case Eiam:
                _eiam = v;
                break;
            case Mrqc:
                _mrqc = v;
                break;
            case >= Reta and < Rssrk:
                WriteBytes(_reta, (int)(offset - Reta), v);
                break;
            case >= Rssrk and < Rssrk + KeyBytes:
                WriteBytes(_key, (int)(offset - Rssrk), v);
                break;
            case >= ReceiveQueues and < ReceiveQueues + (MostQueues * QueueStride):
                _rx[(int)((offset - ReceiveQueues) / QueueStride)].Write(offset % QueueStride, v);
                break;
            case >= TransmitQueues and < TransmitQueues + (MostQueues * QueueStride):
                int q = (int)((offset - TransmitQueues) / QueueStride);
                _tx[q].Write(offset % QueueStride, v);
                if (offset % QueueStride == Dt)
                {
                    Transmit(_tx[q]);
                }
                break;
        }
        return _accessCycles;
    }

    /// <summary>A frame sent by the peer now: it crosses the link and lands in the queue RSS picks.</summary>
    public void PeerSends(UdpFrame frame)
    {
        (_, Tick arrives) = _link.SendTowardsNic(frame.Bytes);
        _sim.Schedule(new CallbackEvent(Name + ".rx", () => Receive(frame), EventPriority.DeviceUpdate), arrives);
    }

    /// <summary>
    /// The receive queue of a frame from the peer to <paramref name="servicePort"/>: with RSS on,
    /// the RETA entry the low seven bits of its Toeplitz hash index (the 4-tuple when MRQC hashes
    /// the ports, the two addresses otherwise); queue 0 without RSS. Returns the hash too.
    /// </summary>
    public (int Queue, uint Hash) QueueOf(ushort servicePort)
    {
        if ((_mrqc & 0xF) != MrqcRss)
        {
            return (0, 0);
        }
        bool ports = (_mrqc & (MrqcIpv4Udp | MrqcIpv4Tcp)) != 0;
        Span<byte> input = stackalloc byte[12];
        PeerAddress.CopyTo(input);
        HostAddress.CopyTo(input[4..]);
        ushort source = PeerPortOf(servicePort);
        (input[8], input[9], input[10], input[11]) = ((byte)(source >> 8), (byte)source, (byte)(servicePort >> 8), (byte)servicePort);
        uint hash = RssHash.Toeplitz(_key, ports ? input : input[..8]);
        return (_reta[hash & (RedirectionEntries - 1)] % MostQueues, hash);
    }

    private void Receive(UdpFrame frame)
    {
        (int queue, uint hash) = QueueOf(frame.Port);
        Ring ring = _rx[queue];
        bool taken = ring.Entries != 0 && (ring.Control & QueueEnable) != 0 && ring.Head != ring.Tail; // the queue on, and a free buffer
        PeerFrameArrived?.Invoke(frame.Port, taken);
        if (!taken)
        {
            _framesDropped.Increment();
            return;
        }
        ulong descriptor = ring.Descriptor(ring.Head);
        ring.Head = (ring.Head + 1) % ring.Entries;
        ulong buffer = _memory.ReadUInt64(descriptor); // the read format's packet buffer address
        frame.WriteReceived(_memory, buffer);
        _memory.WriteUInt64(descriptor, (ulong)hash << 32); // write-back: the RSS hash over the buffer's address
        _memory.WriteUInt64(descriptor + 8, (ReceiveDone | ReceiveEnd) | ((ulong)(ushort)frame.Bytes << 32));
        _framesReceived.Increment();
        _framesByQueue.Increment((QueueIndex)queue);
        SetCause(queue);
    }

    private void Transmit(Ring ring)
    {
        if (ring.Entries == 0 || (ring.Control & QueueEnable) == 0)
        {
            return;
        }
        while (ring.Head != ring.Tail)
        {
            ulong descriptor = ring.Descriptor(ring.Head);
            ulong buffer = _memory.ReadUInt64(descriptor);
            uint command = (uint)_memory.ReadField(descriptor + 8, 4);
            int length = (int)(command & 0xFFFF);
            var frame = UdpFrame.ReadSent(_memory, buffer, length);
            (Tick sent, Tick arrives) = _link.SendTowardsPeer(length);
            _sim.Schedule(new CallbackEvent(Name + ".sent", () => Sent(descriptor, command), EventPriority.DeviceUpdate), sent);
            if (PeerReceives is { } peer)
            {
                _sim.Schedule(new CallbackEvent(Name + ".at-peer", () => peer(frame), EventPriority.DeviceUpdate), arrives);
            }
            ring.Head = (ring.Head + 1) % ring.Entries;
        }
    }

    /// <summary>A frame has left the wire: its descriptor's DD written back if the driver asked (RS).</summary>
    private void Sent(ulong descriptor, uint command)
    {
        _framesSent.Increment();
        if ((command & TransmitReport) != 0)
        {
            _memory.WriteField(descriptor + 12, 4, ReceiveDone); // the write-back's status: DD
        }
    }

    private void SetCause(int queue)
    {
        _eicr |= 1u << queue;
        RaisePending();
    }

    /// <summary>Every cause set and enabled sends its queue's message; auto-masked (EIAM) and auto-cleared (EIAC) as it goes.</summary>
    private void RaisePending()
    {
        uint pending = _eicr & _eims;
        for (int q = 0; pending != 0; q++, pending >>= 1)
        {
            if ((pending & 1) == 0)
            {
                continue;
            }
            uint bit = 1u << q;
            _eims &= ~(bit & _eiam);
            _eicr &= ~(bit & _eiac);
            if (_messages[q] is (int cpu, int vector))
            {
                _interrupts.Increment();
                _message(cpu, vector);
            }
        }
    }

    private uint ReadAndClearCause()
    {
        uint value = _eicr;
        _eicr = 0;
        return value;
    }

    private static int CheckQueue(int queue) =>
        queue is >= 0 and < MostQueues ? queue : throw new ArgumentOutOfRangeException(nameof(queue), queue, $"The 82599 spreads receive over queues 0 to {MostQueues - 1}.");

    private static uint ReadBytes(byte[] table, int at) =>
        (uint)(table[at] | (table[at + 1] << 8) | (table[at + 2] << 16) | (table[at + 3] << 24)); // a register's byte 0 is its lowest entry

    private static void WriteBytes(byte[] table, int at, uint value)
    {
        for (int i = 0; i < 4; i++)
        {
            table[at + i] = (byte)(value >> (8 * i));
        }
    }

    /// <summary>A descriptor ring's registers.</summary>
    private sealed class Ring
    {
        private ulong _base;
        private uint _length;

        public int Entries => (int)(_length / DescriptorBytes);

        public int Head { get; set; }

        public int Tail { get; private set; }

        public uint Control { get; private set; }

        public ulong Descriptor(int index) => _base + ((ulong)index * DescriptorBytes);

        public ulong Read(ulong register) => register switch
        {
            Dbal => _base & 0xFFFF_FFFF,
            Dbah => _base >> 32,
            Dlen => _length,
            Dh => (ulong)Head,
            Dt => (ulong)Tail,
            Dctl => Control,
            _ => 0,
        };

        public void Write(ulong register, uint value)
        {
            switch (register)
            {
                case Dbal:
                    _base = (_base & ~0xFFFF_FFFFUL) | (value & ~0x7Fu);
                    break;
                case Dbah:
                    _base = (_base & 0xFFFF_FFFF) | ((ulong)value << 32);
                    break;
                case Dlen:
                    _length = value & ~0x7Fu;
                    break;
                case Dh:
                    Head = (int)value;
                    break;
                case Dt:
                    Tail = (int)value;
                    break;
                case Dctl:
                    Control = value;
                    break;
            }
        }
    }

    /// <summary>A queue's index, as a statistic's member.</summary>
    private enum QueueIndex
    {
        Q0, Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8, Q9, Q10, Q11, Q12, Q13, Q14, Q15,
    }
}
