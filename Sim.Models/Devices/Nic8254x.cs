using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// A network card with the register interface and legacy descriptor rings of the Intel 8254x
/// family (the e1000 that hypervisors emulate; register offsets and descriptor layouts from the
/// PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual, 317453): ICR
/// 0x00C0 (read to acknowledge), IMS 0x00D0, IMC 0x00D8, RCTL 0x0100, TCTL 0x0400, receive ring
/// RDBAL/RDBAH/RDLEN/RDH/RDT at 0x2800-0x2818, transmit ring TDBAL/TDBAH/TDLEN/TDH/TDT at
/// 0x3800-0x3818. Descriptors are 16 bytes in guest memory, read and written by DMA.
/// </summary>
/// <remarks>
/// A driver sends by writing descriptors to memory and one TDT write per batch; the card sends
/// each frame over its <see cref="EthernetLink"/>, sets DD in descriptors with RS, and raises
/// TXDW (ICR bit 0). A frame from the peer is written to the next free receive buffer with DD and
/// EOP set, RDH advances and RXT0 (ICR bit 7) is raised; the driver returns buffers with one RDT
/// write. Reading ICR acknowledges. So a packet costs the driver one or two register accesses plus
/// the ICR read of each interrupt: what an emulated NIC turns into exits.
/// Model: DMA moves no real payload (lengths, and the UDP ports of a frame's header) and bypasses the CPU caches (no coherence
/// model); the TCP/UDP checksum offload a data descriptor asks for (TXSM, after a context
/// descriptor) costs the card nothing and QEMU's model a pass over the frame; no segmentation
/// offload, no interrupt moderation timers, no multiple queues. Assigned to a
/// guest (an SR-IOV virtual function), its DMA of each descriptor and buffer is translated by
/// the IOMMU (<see cref="DmaTranslation"/>), which delays the frame's transmission or its
/// write-back.
/// </remarks>
public sealed class Nic8254x : IMmioDevice, INetworkCard
{
    public const ulong Status = 0x0008, Icr = 0x00C0, Ims = 0x00D0, Imc = 0x00D8, Rctl = 0x0100, Tctl = 0x0400;
    public const ulong Rdbal = 0x2800, Rdbah = 0x2804, Rdlen = 0x2808, Rdh = 0x2810, Rdt = 0x2818;
    public const ulong Tdbal = 0x3800, Tdbah = 0x3804, Tdlen = 0x3808, Tdh = 0x3810, Tdt = 0x3818;
    public const uint IcrTxdw = 1u << 0;
    public const uint IcrRxt0 = 1u << 7;
    public const byte CmdEop = 1 << 0, CmdRs = 1 << 3, CmdDext = 1 << 5;

    /// <summary>An extended transmit descriptor's type (bits 23:20 of its second dword): a TCP/IP context descriptor, or a TCP/IP data descriptor.</summary>
    public const byte DtypContext = 0x0, DtypData = 0x1;

    /// <summary>A data descriptor's POPTS (byte 13): insert the TCP/UDP checksum.</summary>
    public const byte PoptsTxsm = 1 << 1;
    public const byte StatusDd = 1 << 0, StatusEop = 1 << 1;
    public const ulong Size = 0x20000;
    private const int DescriptorBytes = 16;

    private readonly Simulator _sim;
    private readonly PhysicalMemory _memory;
    private readonly EthernetLink _link;
    private readonly int _accessCycles;
    private readonly Action _raiseInterrupt;
    private readonly Queue<(Tick Done, ulong Descriptor, int Bytes)> _inFlight = new();
    private readonly CallbackEvent _txDone;
    private readonly Counter _framesSent;
    private readonly Counter _framesReceived;
    private readonly Counter _framesDropped;
    private readonly Counter _interrupts;
    private readonly Counter _accesses;
    private uint _icr, _ims, _rctl, _tctl;
    private ulong _rdba, _tdba;
    private uint _rdlen, _rdh, _rdt, _tdlen, _tdh, _tdt;
    private int _checksumStart; // TUCSS of the last context descriptor

    public Nic8254x(Simulator sim, string name, PhysicalMemory memory, EthernetLink link, int accessCycles, Action raiseInterrupt)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(link);
        ArgumentNullException.ThrowIfNull(raiseInterrupt);
        _sim = sim;
        Name = name;
        _memory = memory;
        _link = link;
        _accessCycles = accessCycles;
        _raiseInterrupt = raiseInterrupt;
        _txDone = new CallbackEvent(name + ".tx-done", TransmitDone, EventPriority.DeviceUpdate);
        StatGroup stats = sim.Stats.Group(name);
        _framesSent = stats.Counter("frames_sent", "frames", "frames put on the link");
        _framesReceived = stats.Counter("frames_received", "frames", "frames written to receive buffers");
        _framesDropped = stats.Counter("frames_dropped", "frames", "frames from the peer with no free receive buffer");
        _interrupts = stats.Counter("interrupts", "count", "interrupts raised");
        _accesses = stats.Counter("accesses", "count", "register accesses");
    }

    public string Name { get; }

    /// <summary>Called when a frame reaches the peer, with its length and its UDP source port: the peer model (<see cref="NetworkPeer"/>).</summary>
    public Action<UdpFrame>? PeerReceives { get; set; }

    public Action<ushort, bool>? PeerFrameArrived { get; set; }

    /// <summary>Where a monitor's software model of the card records what an access does (null for a real card).</summary>
    public EmulationWork? Emulation { get; set; }

    /// <summary>
    /// The user-space model's host thread, under a KVM-like hypervisor (null for a real card and
    /// for a model inside the monitor). With it, the model is QEMU's: a sent frame's descriptor is
    /// written back and TXDW raised as the frame goes to the tap (txdesc_writeback in start_xmit),
    /// not when it has left the wire; a frame from the peer reaches the guest only when the thread
    /// has read it from the tap and written it to a receive buffer; and each interrupt is raised
    /// through KVM from user space.
    /// </summary>
    public IDeviceBackend? Backend { get; set; }

    /// <summary>
    /// Under a hosted monitor, the thread of its process on the host that takes the host's
    /// completions for the device (a frame read from the host, a request done) and runs the
    /// device's side of them, when the device has no backend thread; null otherwise. Unlike a
    /// backend thread it takes no kicks and the interrupt it makes the device raise goes through
    /// the monitor's own injection, not an irqfd.
    /// </summary>
    public IDeviceBackend? HostCompletions { get; set; }

    public (ulong Value, int Cycles) Read(ulong offset)
    {
        _accesses.Increment();
        ulong value = offset switch
        {
            Icr => ReadAndClearIcr(),
            Ims => _ims,
            Rctl => _rctl,
            Tctl => _tctl,
            Rdbal => _rdba & 0xFFFF_FFFF,
            Rdbah => _rdba >> 32,
            Rdlen => _rdlen,
            Rdh => _rdh,
            Rdt => _rdt,
            Tdbal => _tdba & 0xFFFF_FFFF,
            Tdbah => _tdba >> 32,
            Tdlen => _tdlen,
            Tdh => _tdh,
            Tdt => _tdt,
            Status => 0x83, // FD (bit 0), LU (bit 1), SPEED = 10b, 1000 Mb/s (bits 7:6)
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
            case Ims:
                _ims |= v;
                RaiseIfPending();
                break;
            case Imc:
                _ims &= ~v;
                break;
            case Rctl:
                _rctl = v;
                break;
            case Tctl:
                _tctl = v;
                break;
            case Rdbal:
                _rdba = (_rdba & ~0xFFFF_FFFFUL) | v;
                break;
            case Rdbah:
                _rdba = (_rdba & 0xFFFF_FFFF) | ((ulong)v << 32);
                break;
            case Rdlen:
                _rdlen = v & ~0x7Fu;
                break;
            case Rdh:
                _rdh = v;
                break;
            case Rdt:
                _rdt = v;
                break;
            case Tdbal:
                _tdba = (_tdba & ~0xFFFF_FFFFUL) | v;
                break;
            case Tdbah:
                _tdba = (_tdba & 0xFFFF_FFFF) | ((ulong)v << 32);
                break;
            case Tdlen:
                _tdlen = v & ~0x7Fu;
                break;
            case Tdh:
                _tdh = v;
                break;
            case Tdt:
                _tdt = v;
                StartTransmit();
                break;
        }
        return _accessCycles;
    }

    /// <summary>A frame sent by the peer now: it crosses the link and lands in the next free receive buffer.</summary>
    public void PeerSends(UdpFrame frame)
    {
        (_, Tick arrives) = _link.SendTowardsNic(frame.Bytes);
        _sim.Schedule(new CallbackEvent(Name + ".rx", () => Arrived(frame), EventPriority.DeviceUpdate), arrives);
    }

    /// <summary>A frame at the card, or with a user-space model at the host's tap: received at once, or once the model's thread has read it.</summary>
    private void Arrived(UdpFrame frame) => (Backend ?? HostCompletions).FromHost(() => Receive(frame));

    private static uint RingEntries(uint lengthBytes) => lengthBytes / DescriptorBytes;

    private void StartTransmit()
    {
        uint entries = RingEntries(_tdlen);
        if (entries == 0 || (_tctl & 0x2) == 0) // TCTL.EN
        {
            return;
        }
        while (_tdh != _tdt)
        {
            ulong descriptor = _tdba + ((ulong)_tdh * DescriptorBytes);
            ulong word = _memory.ReadUInt64(descriptor + 8);
            bool extended = ((byte)(word >> 24) & CmdDext) != 0;
            if (extended && ((word >> 20) & 0xF) == DtypContext)
            {
                TakeContext(descriptor);
                _tdh = (_tdh + 1) % entries;
                continue;
            }
            int length = (int)(word & (extended ? 0xFFFFFUL : 0xFFFF));
            ulong buffer = _memory.ReadUInt64(descriptor);
            RecordTransmit(descriptor, buffer, length, extended && ((byte)(word >> 40) & PoptsTxsm) != 0 ? _checksumStart : null);
            if (Backend is not null && WriteBackSent(descriptor))
            {
                SetCause(IcrTxdw); // QEMU's model reports the frame as it goes to the tap
            }
            var frame = UdpFrame.ReadSent(_memory, buffer, length);
            Tick dma = DescriptorDma(descriptor);
            (Tick sent, Tick arrives) = _link.SendTowardsPeer(length);
            (sent, arrives) = (sent + dma, arrives + dma);
            _inFlight.Enqueue((sent, descriptor, length));
            if (PeerReceives is { } peer)
            {
                _sim.Schedule(new CallbackEvent(Name + ".at-peer", () => peer(frame), EventPriority.DeviceUpdate), arrives);
            }
            _tdh = (_tdh + 1) % entries;
        }
        if (!_txDone.Scheduled && _inFlight.TryPeek(out var first))
        {
            _sim.Schedule(_txDone, first.Done);
        }
    }

    /// <summary>
    /// A TCP/IP context descriptor: where the checksum the next data descriptors ask for starts
    /// (TUCSS, byte 4; the hardware also takes TUCSO, where it goes, and the IP fields, which the
    /// model's frames do not need), its DD written back if it asks; a software model records the
    /// descriptor's read and the context saved.
    /// </summary>
    private void TakeContext(ulong descriptor)
    {
        _checksumStart = (int)_memory.ReadField(descriptor + 4, 1);
        if (Emulation is { } work)
        {
            work.Step(EmulationStep.TransmitContext);
            work.Read(descriptor, DescriptorBytes);
        }
        if (WriteBackSent(descriptor))
        {
            Emulation?.Write(descriptor + 12, 1);
        }
    }

    /// <summary>
    /// A software model's work for one frame of a TDT write, in QEMU's order (start_xmit): the
    /// descriptor read, the frame copied into the model's buffer (process_tx_desc's pci_dma_read),
    /// the checksum the descriptor asks for computed over the copy from <paramref name="checksumFrom"/>
    /// (putsum: a step a line; the hardware computes it as it sends), the frame handed to the
    /// backend (one real I/O), and the descriptor's status written back (txdesc_writeback, which
    /// QEMU does as the frame goes; this card's DD appears when the frame has left the link).
    /// </summary>
    private void RecordTransmit(ulong descriptor, ulong buffer, int length, int? checksumFrom)
    {
        if (Emulation is not { } work)
        {
            return;
        }
        work.Step(EmulationStep.TransmitDescriptor);
        work.Read(descriptor, DescriptorBytes);
        work.CopyOut(buffer, length);
        if (checksumFrom is { } start)
        {
            for (int line = start; line < length; line += 64)
            {
                work.Step(EmulationStep.ChecksumLine);
            }
        }
        work.Frame();
        work.Write(descriptor + 12, 1);
    }

    private void TransmitDone()
    {
        bool report = false;
        while (_inFlight.TryPeek(out var f) && f.Done <= _sim.Now)
        {
            _inFlight.Dequeue();
            _framesSent.Increment();
            report |= Backend is null && WriteBackSent(f.Descriptor);
        }
        if (report)
        {
            SetCause(IcrTxdw);
        }
        if (_inFlight.TryPeek(out var next))
        {
            _sim.Schedule(_txDone, next.Done);
        }
    }

    /// <summary>A sent frame's descriptor: DD set if the driver asked for a report (RS). Returns whether it reports.</summary>
    private bool WriteBackSent(ulong descriptor)
    {
        ulong word = _memory.ReadUInt64(descriptor + 8);
        if (((byte)(word >> 24) & CmdRs) == 0)
        {
            return false;
        }
        _memory.WriteUInt64(descriptor + 8, word | ((ulong)StatusDd << 32));
        return true;
    }

    private void Receive(UdpFrame frame)
    {
        uint entries = RingEntries(_rdlen);
        bool taken = entries != 0 && (_rctl & 0x2) != 0 && _rdh != _rdt; // RCTL.EN, and a free buffer
        PeerFrameArrived?.Invoke(frame.Port, taken);
        if (!taken)
        {
            _framesDropped.Increment();
            return;
        }
        ulong descriptor = _rdba + ((ulong)_rdh * DescriptorBytes);
        _rdh = (_rdh + 1) % entries;
        RecordReceive(descriptor, frame.Bytes);
        Tick dma = DescriptorDma(descriptor);
        if (dma == default)
        {
            WriteBack(descriptor, frame);
            return;
        }
        _sim.Schedule(new CallbackEvent(Name + ".rx-dma", () => WriteBack(descriptor, frame), EventPriority.DeviceUpdate), _sim.Now + dma);
    }

    /// <summary>
    /// The user-space model's work for a frame it receives, on its thread (QEMU's tap_send and
    /// e1000_receive_iov): the frame read from the tap (one real I/O), the descriptor read, the
    /// frame written into the guest's buffer and the descriptor written back.
    /// </summary>
    private void RecordReceive(ulong descriptor, int length)
    {
        if (Emulation is not { } work)
        {
            return;
        }
        work.Frame();
        work.Step(EmulationStep.FrameReceive);
        work.Read(descriptor, DescriptorBytes);
        work.Write(_memory.ReadUInt64(descriptor), length);
        work.Write(descriptor + 8, 8);
    }

    /// <summary>A received frame's header (its UDP destination port) and payload's first word written to its buffer, its descriptor written back (length in bits 15:0 of the second quadword, status DD and EOP in bits 39:32) and RXT0 raised.</summary>
    private void WriteBack(ulong descriptor, UdpFrame frame)
    {
        ulong buffer = _memory.ReadUInt64(descriptor);
        frame.WriteReceived(_memory, buffer);
        _memory.WriteUInt64(descriptor + 8, (ulong)(ushort)frame.Bytes | ((ulong)(StatusDd | StatusEop) << 32));
        _framesReceived.Increment();
        SetCause(IcrRxt0);
    }

    /// <summary>For a NIC function assigned to a guest: the time its DMA to an address takes through the IOMMU (null for a device of the host).</summary>
    public Func<ulong, Tick>? DmaTranslation { get; set; }

    /// <summary>The IOMMU's time for the DMA of a descriptor and the buffer it names; nothing for a device of the host.</summary>
    private Tick DescriptorDma(ulong descriptor) =>
        DmaTranslation is { } translate ? translate(descriptor) + translate(_memory.ReadUInt64(descriptor)) : default;

    private void SetCause(uint cause)
    {
        _icr |= cause;
        RaiseIfPending();
    }

    private void RaiseIfPending()
    {
        if ((_icr & _ims) != 0)
        {
            _interrupts.Increment();
            if (Backend is not null)
            {
                Emulation?.Irqfd(); // QEMU's pci_set_irq from user space, into KVM's interrupt routing
            }
            _raiseInterrupt();
        }
    }

    private uint ReadAndClearIcr()
    {
        Emulation?.Step(EmulationStep.InterruptCause);
        uint value = _icr;
        _icr = 0;
        return value;
    }
}
