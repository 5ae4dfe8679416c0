using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's network path: a datagram stack behind sendto and recvfrom over one of two
/// drivers, the e1000's (here) or virtio-net's (<c>LinuxKernel.VirtioNet.cs</c>). A process's
/// datagrams go through the socket of its service port (<see cref="ServicePort"/>): the stack
/// writes that port into the UDP header of each frame it sends, and reads the destination port
/// from the header of each frame received to find the socket it is for, so that the services of
/// several containers share the one NIC. A container on a bridged network (Docker's default) adds
/// its veth pair and the bridge to each frame's path, either way (<see cref="BridgeRoutine"/>).
/// </summary>
public sealed partial class LinuxKernel
{
    /// <summary>The vector the NIC's interrupt line (IRQ 11, or the virtio card's) is routed to at boot.</summary>
    public const int NicVector = 0x2B;

    private const int RingEntries = 256;

    /// <summary>The UDP port of the first service's socket (an arbitrary unprivileged port).</summary>
    public const ushort FirstServicePort = 8000;

    /// <summary>
    /// The UDP port of the socket a process sends and receives on: one per container, as each
    /// container's network namespace has its own socket which the host publishes on a port of its
    /// own (Docker's <c>-p</c>); the first port for a process in no container.
    /// </summary>
    public static ushort ServicePort(Container? container) => (ushort)(FirstServicePort + (container?.Index ?? 0));

    /// <summary>Where the frame starts in a network buffer: after the virtio_net_hdr for the virtio card, at once for the e1000.</summary>
    private int FrameOffset => _vnet is null ? 0 : VirtioNet.HeaderBytes;

    /// <summary>Brings the NIC up at boot (not timed), with the driver for its kind.</summary>
    public void StartNetwork()
    {
        PlatformDevices devices = _platform.Devices;
        if (devices.VirtioNet is { } virtio)
        {
            StartVirtioNet(virtio);
        }
        else if (devices.Ixgbe is { } ixgbe)
        {
            StartIxgbe(ixgbe);
        }
        else
        {
            StartE1000(devices.Nic ?? throw new InvalidOperationException("The machine has no NIC."));
        }
        _net = new SocketTable(_platform.Sim.Stats.Group(_platform.Name + ".kernel.net").Counter("no_socket", "frames", "frames received for a port no socket is bound to (dropped)"));
        _net.Bind(FirstServicePort, Memory); // the first service's socket, bound at boot as a daemon's would be
        if (_containers.Exists(c => c.Configuration.Network == ContainerNetwork.Bridge))
        {
            _text.LayOutBridgeRoutines(); // containers added before the network came up
        }
    }

    /// <summary>
    /// The e1000 at boot: transmit and receive rings of 256 descriptors in memory, a 2 KiB buffer
    /// per receive descriptor, both units enabled, receive interrupts on, and IRQ 11 routed to
    /// core 0 as an edge.
    /// </summary>
    private void StartE1000(Devices.Nic8254x nic)
    {
        ulong tx = Memory.AllocateFrame();
        ulong rx = Memory.AllocateFrame();
        for (int i = 0; i < RingEntries; i++)
        {
            Memory.WriteUInt64(rx + ((ulong)i * 16), Memory.AllocateFrame()); // one frame per buffer (2 KiB used)
        }
        // The ring bases are 64-bit, written as two 32-bit registers (e1000_configure_tx and _rx):
        // with a large memory the rings lie above 4 GiB, and the low half alone would lose them.
        nic.Write(Devices.Nic8254x.Tdbah, tx >> 32);
        nic.Write(Devices.Nic8254x.Tdbal, tx & 0xFFFF_FFFF);
        nic.Write(Devices.Nic8254x.Tdlen, RingEntries * 16);
        nic.Write(Devices.Nic8254x.Rdbah, rx >> 32);
        nic.Write(Devices.Nic8254x.Rdbal, rx & 0xFFFF_FFFF);
        nic.Write(Devices.Nic8254x.Rdlen, RingEntries * 16);
        nic.Write(Devices.Nic8254x.Rdt, RingEntries - 1);
        nic.Write(Devices.Nic8254x.Rctl, 0x2);
        nic.Write(Devices.Nic8254x.Tctl, 0x2);
        nic.Write(Devices.Nic8254x.Ims, Devices.Nic8254x.IcrRxt0);
        RouteIrq(PlatformDevices.NicIrq, NicVector, levelTriggered: false);
        _e1000 = new E1000State(tx, rx);
    }

    /// <summary>
    /// sendto of <paramref name="bytes"/> (one datagram): the protocol stack's work and the copy of
    /// the payload from the user buffer into the socket buffer, then the driver's transmit. The
    /// payload's first word (<see cref="EthernetLink.PayloadOffset"/>) is the one the program's
    /// buffer holds, given with the call as <see cref="IProgram.PendingSecondArgument"/> (the
    /// model keeps no user-space copy of the data, only of that word).
    /// </summary>
    private void Send(Core core, KernelPath path, Process p, int bytes)
    {
        UdpSocket socket = SocketOf(p);
        int frame = Math.Clamp(bytes + EthernetLink.UdpHeaderBytes, 60, 1514); // Ethernet's minimum and maximum frame
        p.LastSend = core.LocalTime; // a round trip starts at the sendto: the core's time as it enters the kernel, not the event queue's, which lags it
        path.Run(KernelRoutine.NetworkSend);
        ulong buffer = socket.TxBuffer(_this.Index, Memory, _vnet is { } vnet ? vnet.TxInFlight : null); // a virtio backend reads the frame later: never overwrite one it has not read
        path.StoreRange(DirectMap.Of(buffer + (ulong)FrameOffset), frame); // the headers and the copy from user space into the socket buffer
        Memory.WriteField(buffer + (ulong)(FrameOffset + EthernetLink.SourcePortOffset), 2, socket.Port);
        UdpFrame.WriteId(Memory, buffer + (ulong)FrameOffset, (uint)p.Program.PendingSecondArgument);
        Bridge(path, p.Container, BridgeRoutine.VethTransmit); // a bridged container's frame reaches the NIC's queue through its veth pair and the bridge
        // dev_queue_xmit: the device queue's lock (HARD_TX_LOCK), which every CPU's sends through a single-queue card take; a multi-queue card's each CPU sends on its own queue, under its own lock.
        ulong? txLock = !Smp ? null : _ixgbe is not null ? IxgbeTransmitQueue.TxLock : _net!.TxLock(Memory);
        if (txLock is { } taken)
        {
            path.SpinLock(taken);
        }
        if (_vnet is not null)
        {
            VirtioNetTransmit(path, buffer, frame);
        }
        else if (_ixgbe is not null)
        {
            IxgbeTransmit(path, buffer, frame);
        }
        else
        {
            E1000Transmit(path, buffer, frame);
        }
        if (txLock is { } held)
        {
            path.SpinUnlock(held);
        }
        p.Program.SyscallReturned(bytes);
    }

    /// <summary>
    /// The value of a TDT write that stands for the driver's transmit tail as it is when the write
    /// runs (<see cref="OnDeviceAccess"/> puts it in): a driver fills descriptors and writes the tail
    /// under its transmit queue's lock, so the tail it writes is never behind one written before.
    /// The model's SMP kernel fills a descriptor when it builds a path and writes the tail when the
    /// path runs, so a tail fixed at build time could reach the card after a later one.
    /// </summary>
    private const ulong CurrentTxTail = ulong.MaxValue;

    /// <summary>
    /// A device access of the kernel's runs (natively <see cref="OnDeviceAccess"/> calls this; in a
    /// VM the core does, as the access exits): the value a write carries then, which is the
    /// e1000's transmit tail as it stands for a TDT write that asks for it
    /// (<see cref="CurrentTxTail"/>) and any other write's own value; and the AHCI driver learns
    /// that the tags of its PxSACT write are issued.
    /// </summary>
    public ulong DeviceWriteRuns(Instruction instruction, ulong address, ulong value)
    {
        if (instruction != Instruction.MmioWrite)
        {
            return value;
        }
        if (address == PlatformDevices.AhciBase + Devices.AhciDisk.PxSact && _ahci is not null)
        {
            AhciTagsWritten((uint)value);
        }
        return address == PlatformDevices.NicBase + Devices.Nic8254x.Tdt && value == CurrentTxTail && _e1000 is { } e ? (ulong)e.TxTail : value;
    }

    /// <summary>Where a frame's UDP header starts (after the Ethernet and IPv4 headers), and its checksum field's offset in it: the context descriptor's TUCSS and TUCSO.</summary>
    private const int UdpHeaderStart = 34, UdpChecksumOffset = 6;

    /// <summary>
    /// The e1000's transmit, as Linux's e1000_xmit_frame does it for a datagram whose checksum the
    /// card is to insert (UDP over IPv4 sends CHECKSUM_PARTIAL to a card with NETIF_F_HW_CSUM):
    /// a TCP/IP context descriptor with the checksum's start and place (e1000_tx_csum, written
    /// for each such frame), then the frame's data descriptor asking for the checksum (TXSM,
    /// e1000_tx_queue), both in memory, and one TDT write (on an SMP kernel, of the tail as it is
    /// when the write runs).
    /// </summary>
    private void E1000Transmit(KernelPath path, ulong buffer, int frame)
    {
        E1000State e = _e1000!;
        ulong context = e.TxRing + ((ulong)e.TxTail * 16);
        Memory.WriteUInt64(context, 0); // no IP checksum fields
        Memory.WriteField(context + 4, 4, UdpHeaderStart | ((UdpHeaderStart + UdpChecksumOffset) << 8)); // TUCSS, TUCSO (TUCSE 0: to the end)
        Memory.WriteUInt64(context + 8, ((ulong)Devices.Nic8254x.DtypContext << 20) | ((ulong)Devices.Nic8254x.CmdDext << 24));
        path.Store(context).Store(context + 8);
        e.TxTail = (e.TxTail + 1) % RingEntries;
        ulong descriptor = e.TxRing + ((ulong)e.TxTail * 16);
        Memory.WriteUInt64(descriptor, buffer);
        Memory.WriteUInt64(descriptor + 8, (ulong)frame | ((ulong)Devices.Nic8254x.DtypData << 20)
            | ((ulong)(Devices.Nic8254x.CmdEop | Devices.Nic8254x.CmdRs | Devices.Nic8254x.CmdDext) << 24) | ((ulong)Devices.Nic8254x.PoptsTxsm << 40));
        path.Store(descriptor).Store(descriptor + 8);
        e.TxTail = (e.TxTail + 1) % RingEntries;
        path.Execute(Op.MmioWrite(PlatformDevices.NicBase + Devices.Nic8254x.Tdt, Smp ? CurrentTxTail : (ulong)e.TxTail));
    }

    /// <summary>
    /// recvfrom: a queued datagram is copied out at once; otherwise the caller blocks until the
    /// NIC's interrupt brings one. On an SMP kernel the receive queue is looked at under its lock
    /// and the caller queues itself under the wait queue's (__skb_recv_datagram and
    /// wait_for_packet, net/core/datagram.c; both with interrupts off, as the NIC's handler takes
    /// them too).
    /// </summary>
    private void Receive(Core core, KernelPath path, Process p)
    {
        UdpSocket socket = SocketOf(p);
        UdpSocket.LockWords? locks = Smp ? socket.Locks(Memory) : null;
        if (locks is { } queue)
        {
            path.SpinLockIrqSave(queue.ReceiveQueue);
        }
        bool got = socket.Queued.TryDequeue(out UdpSocket.Datagram datagram);
        if (locks is { } unlock)
        {
            path.SpinUnlockIrqRestore(unlock.ReceiveQueue);
        }
        if (got)
        {
            Delivered(path, p, datagram);
            return;
        }
        if (locks is { } wait)
        {
            path.SpinLockIrqSave(wait.WaitQueue).SpinUnlockIrqRestore(wait.WaitQueue); // prepare_to_wait_exclusive
        }
        socket.Waiters.Enqueue(p);
        p.State = ProcessState.Waiting;
        SwitchToNext(core, path);
    }

    /// <summary>
    /// The e1000's interrupt, as Linux's e1000_intr and its NAPI poll (e1000_clean) do it: ICR
    /// read, the card's interrupts masked (IMC written with all ones, then STATUS read to flush
    /// the posted write), every completed receive descriptor taken through the stack, the buffers
    /// given back with one RDT write, interrupts unmasked again (IMS written, STATUS read), and a
    /// waiting receiver woken: six register accesses per interrupt, each an exit when emulated.
    /// </summary>
    private void NicInterrupt(KernelPath path)
    {
        E1000State e = _e1000!;
        const ulong nic = PlatformDevices.NicBase;
        path.Execute(Op.MmioRead(nic + Devices.Nic8254x.Icr))
            .Execute(Op.MmioWrite(nic + Devices.Nic8254x.Imc, uint.MaxValue))
            .Execute(Op.MmioRead(nic + Devices.Nic8254x.Status));
        int taken = 0;
        while (true)
        {
            ulong status = e.RxRing + ((ulong)e.RxNext * 16) + 8;
            path.Load(status);
            ulong word = Memory.ReadUInt64(status);
            if ((word & ((ulong)Devices.Nic8254x.StatusDd << 32)) == 0)
            {
                break;
            }
            Memory.WriteUInt64(status, 0);
            path.Run(KernelRoutine.NetworkReceive);
            Demultiplex(path, Memory.ReadUInt64(status - 8), (int)(word & 0xFFFF) - EthernetLink.UdpHeaderBytes);
            e.RxNext = (e.RxNext + 1) % RingEntries;
            taken++;
        }
        if (taken > 0)
        {
            path.Execute(Op.MmioWrite(nic + Devices.Nic8254x.Rdt, (ulong)((e.RxNext + RingEntries - 1) % RingEntries)));
        }
        path.Execute(Op.MmioWrite(nic + Devices.Nic8254x.Ims, Devices.Nic8254x.IcrRxt0))
            .Execute(Op.MmioRead(nic + Devices.Nic8254x.Status));
        WakeReceivers(path);
    }

    /// <summary>
    /// A received datagram of <paramref name="bytes"/> in the buffer at <paramref name="buffer"/>
    /// (where the driver's buffer starts) queued on the socket its UDP destination port names,
    /// read from the frame's header; dropped when no socket has that port.
    /// </summary>
    private void Demultiplex(KernelPath path, ulong buffer, int bytes)
    {
        SocketTable net = _net!;
        ulong header = buffer + (ulong)FrameOffset;
        path.Load(header + EthernetLink.DestinationPortOffset); // the UDP header
        ushort port = (ushort)Memory.ReadField(header + EthernetLink.DestinationPortOffset, 2);
        if (net.TryGet(port, out UdpSocket socket))
        {
            Bridge(path, ContainerOfPort(port), BridgeRoutine.BridgeReceive); // from the NIC through the bridge and the veth pair into the container's namespace
            if (Smp)
            {
                ulong queue = socket.Locks(Memory).ReceiveQueue;
                path.SpinLock(queue).SpinUnlock(queue); // skb_queue_tail, under the queue's lock (interrupts are off in the handler)
            }
            socket.Queued.Enqueue(new UdpSocket.Datagram(bytes, header, UdpFrame.ReadId(Memory, header))); // the id read now: the NIC reuses the buffer once it is given back
        }
        else
        {
            net.NoSocket.Increment();
        }
    }

    /// <summary>
    /// The processes waiting in recvfrom on a socket that now has datagrams get one each, in the
    /// order they began to wait, copied out, and become runnable (sockets in the order they were
    /// bound). A receiver waits exclusively (wait_for_packet's prepare_to_wait_exclusive,
    /// net/core/datagram.c) and sock_def_readable wakes one exclusive waiter per datagram, so
    /// the threads of a server that share a socket take its datagrams in turn, none woken for
    /// nothing.
    /// </summary>
    private void WakeReceivers(KernelPath path)
    {
        foreach (UdpSocket socket in _net!.Bound)
        {
            while (socket.Waiters.Count > 0 && socket.Queued.TryDequeue(out UdpSocket.Datagram datagram))
            {
                if (Smp)
                {
                    UdpSocket.LockWords locks = socket.Locks(Memory);
                    path.SpinLock(locks.WaitQueue).SpinUnlock(locks.WaitQueue); // __wake_up_sync_key, one exclusive waiter
                    path.SpinLock(locks.ReceiveQueue).SpinUnlock(locks.ReceiveQueue); // the datagram taken off the queue for it
                }
                Process waiter = socket.Waiters.Dequeue();
                Delivered(path, waiter, datagram);
                waiter.State = ProcessState.Ready;
                Wake(waiter, path);
            }
        }
    }

    /// <summary>The socket of <paramref name="p"/>'s service port, bound on first use (the first service's at boot).</summary>
    private UdpSocket SocketOf(Process p)
    {
        SocketTable net = _net ?? throw new InvalidOperationException("A datagram system call with no network brought up.");
        ushort port = ServicePort(p.Container);
        return net.TryGet(port, out UdpSocket socket) ? socket : net.Bind(port, Memory);
    }

    /// <summary>Whether a process waits in recvfrom.</summary>
    private bool AnyNetworkWaiter => _net?.AnyWaiter ?? false;

    /// <summary>
    /// recvfrom returns a datagram, copied out of its receive buffer (the user-side stores are not
    /// modelled), the program seeing its payload's first word (<see cref="Cpu.IOpStream.Observed"/>);
    /// if the process sent one before, the time from that sendto to this recvfrom's return to user
    /// mode (stamped by the core as it gets there) is a request-response round trip.
    /// </summary>
    private void Delivered(KernelPath path, Process p, UdpSocket.Datagram datagram)
    {
        path.LoadRange(DirectMap.Of(datagram.Buffer), datagram.Bytes);
        p.Program.Observed(datagram.Id);
        p.Program.SyscallReturned(datagram.Bytes);
        if (p.LastSend is { } sent)
        {
            p.OnReturnToUser += t => _roundTrips.Record((long)((t - sent).Picoseconds / 1000));
            p.LastSend = null;
        }
    }

    /// <summary>The e1000 driver's rings and positions.</summary>
    private sealed class E1000State(ulong txRing, ulong rxRing)
    {
        public ulong TxRing { get; } = txRing;

        public ulong RxRing { get; } = rxRing;

        public int TxTail { get; set; }

        public int RxNext { get; set; }
    }
}
