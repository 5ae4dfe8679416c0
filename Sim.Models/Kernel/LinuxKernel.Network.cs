using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's network path: a datagram stack behind sendto and recvfrom over one of two
/// drivers, the e1000's (here) or virtio-net's (<c>LinuxKernel.VirtioNet.cs</c>).
/// </summary>
public sealed partial class LinuxKernel
{
    /// <summary>The vector the NIC's interrupt line (IRQ 11, or the virtio card's) is routed to at boot.</summary>
    public const int NicVector = 0x2B;

    private const int RingEntries = 256;

    /// <summary>Brings the NIC up at boot (not timed), with the driver for its kind.</summary>
    public void StartNetwork()
    {
        PlatformDevices devices = _platform.Devices;
        if (devices.VirtioNet is { } virtio)
        {
            StartVirtioNet(virtio);
        }
        else
        {
            StartE1000(devices.Nic ?? throw new InvalidOperationException("The machine has no NIC."));
        }
        _net = new NetworkState(Memory.AllocateFrame());
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
        nic.Write(Devices.Nic8254x.Tdbal, tx);
        nic.Write(Devices.Nic8254x.Tdlen, RingEntries * 16);
        nic.Write(Devices.Nic8254x.Rdbal, rx);
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
    /// the payload from the user buffer into the socket buffer, then the driver's transmit.
    /// </summary>
    private void Send(KernelPath path, Process p, int bytes)
    {
        NetworkState net = _net ?? throw new InvalidOperationException("sendto with no network brought up.");
        int frame = Math.Clamp(bytes + EthernetLink.UdpHeaderBytes, 60, 1514); // Ethernet's minimum and maximum frame
        path.Run(KernelRoutine.NetworkSend);
        path.StoreRange(DirectMap.Of(net.TxBuffer), frame); // the copy from user space into the socket buffer
        if (_vnet is not null)
        {
            VirtioNetTransmit(path, net.TxBuffer, frame);
        }
        else
        {
            E1000Transmit(path, net.TxBuffer, frame);
        }
        p.Program.SyscallReturned(bytes);
        p.LastSend = _platform.Sim.Now;
    }

    /// <summary>The e1000's transmit: a descriptor written in memory, and one TDT write.</summary>
    private void E1000Transmit(KernelPath path, ulong buffer, int frame)
    {
        E1000State e = _e1000!;
        ulong descriptor = e.TxRing + ((ulong)e.TxTail * 16);
        Memory.WriteUInt64(descriptor, buffer);
        Memory.WriteUInt64(descriptor + 8, (ulong)frame | ((ulong)(Devices.Nic8254x.CmdEop | Devices.Nic8254x.CmdRs) << 24));
        path.Store(descriptor).Store(descriptor + 8);
        e.TxTail = (e.TxTail + 1) % RingEntries;
        path.Execute(Op.MmioWrite(PlatformDevices.NicBase + Devices.Nic8254x.Tdt, (ulong)e.TxTail));
    }

    /// <summary>recvfrom: a queued datagram is copied out at once; otherwise the caller blocks until the NIC's interrupt brings one.</summary>
    private void Receive(Core core, KernelPath path, Process p)
    {
        NetworkState net = _net ?? throw new InvalidOperationException("recvfrom with no network brought up.");
        if (net.Queued.TryDequeue(out (int Bytes, ulong Buffer) datagram))
        {
            path.LoadRange(DirectMap.Of(datagram.Buffer), datagram.Bytes); // the copy out of the receive buffer (the user-side stores are not modelled)
            Delivered(p, datagram.Bytes);
            return;
        }
        net.Waiter = p;
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
            _net!.Queued.Enqueue(((int)(word & 0xFFFF) - EthernetLink.UdpHeaderBytes, Memory.ReadUInt64(status - 8)));
            e.RxNext = (e.RxNext + 1) % RingEntries;
            taken++;
        }
        if (taken > 0)
        {
            path.Execute(Op.MmioWrite(nic + Devices.Nic8254x.Rdt, (ulong)((e.RxNext + RingEntries - 1) % RingEntries)));
        }
        path.Execute(Op.MmioWrite(nic + Devices.Nic8254x.Ims, Devices.Nic8254x.IcrRxt0))
            .Execute(Op.MmioRead(nic + Devices.Nic8254x.Status));
        WakeReceiver(path);
    }

    /// <summary>A process waiting in recvfrom gets the first queued datagram, copied out, and becomes runnable.</summary>
    private void WakeReceiver(KernelPath path)
    {
        NetworkState net = _net!;
        if (net.Waiter is { } waiter && net.Queued.TryDequeue(out (int Bytes, ulong Buffer) datagram))
        {
            path.LoadRange(DirectMap.Of(datagram.Buffer), datagram.Bytes); // the copy out of the receive buffer (the user-side stores are not modelled)
            Delivered(waiter, datagram.Bytes);
            waiter.State = ProcessState.Ready;
            _ready.AddLast(waiter);
            net.Waiter = null;
        }
    }

    /// <summary>recvfrom returns a datagram; if the process sent one before, the time since is a request-response round trip.</summary>
    private void Delivered(Process p, int bytes)
    {
        p.Program.SyscallReturned(bytes);
        if (p.LastSend is { } sent)
        {
            _roundTrips.Record((long)((_platform.Sim.Now - sent).Picoseconds / 1000));
            p.LastSend = null;
        }
    }

    /// <summary>The stack's state, whatever the driver: the socket buffer, datagrams received and not yet read, the process waiting for one.</summary>
    private sealed class NetworkState(ulong txBuffer)
    {
        /// <summary>Model: one socket buffer frame that every send copies into.</summary>
        public ulong TxBuffer { get; } = txBuffer;

        public Queue<(int Bytes, ulong Buffer)> Queued { get; } = new();

        public Process? Waiter { get; set; }
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
