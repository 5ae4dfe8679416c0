using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>The kernel's network path: the e1000 driver and a datagram stack behind sendto and recvfrom.</summary>
public sealed partial class LinuxKernel
{
    /// <summary>The vector the NIC's interrupt line (IRQ 11) is routed to at boot.</summary>
    public const int NicVector = 0x2B;

    private const int RingEntries = 256;

    /// <summary>
    /// Brings the NIC up at boot (not timed): transmit and receive rings of 256 descriptors in
    /// memory, a 2 KiB buffer per receive descriptor, both units enabled, receive interrupts on,
    /// and IRQ 11 routed to core 0 as an edge.
    /// </summary>
    public void StartNetwork()
    {
        Devices.Nic8254x nic = _platform.Devices.Nic ?? throw new InvalidOperationException("The machine has no NIC.");
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
        _net = new NetworkState(tx, rx, Memory.AllocateFrame());
    }

    /// <summary>
    /// sendto of <paramref name="bytes"/> (one datagram): the protocol stack's work, the copy of the
    /// payload from the user buffer, a transmit descriptor written in memory, and one TDT write.
    /// </summary>
    private void Send(KernelPath path, Process p, int bytes)
    {
        NetworkState net = _net ?? throw new InvalidOperationException("sendto with no network brought up.");
        int frame = Math.Clamp(bytes + 42, 60, 1514); // UDP, IP and Ethernet headers; Ethernet minimum and maximum
        path.Run(KernelRoutine.NetworkSend);
        ulong buffer = net.TxBuffer;
        path.StoreRange(DirectMap.Of(buffer), frame); // the copy from user space into the socket buffer
        ulong descriptor = net.TxRing + ((ulong)net.TxTail * 16);
        Memory.WriteUInt64(descriptor, buffer);
        Memory.WriteUInt64(descriptor + 8, (ulong)frame | ((ulong)(Devices.Nic8254x.CmdEop | Devices.Nic8254x.CmdRs) << 24));
        path.Store(descriptor).Store(descriptor + 8);
        net.TxTail = (net.TxTail + 1) % RingEntries;
        path.Execute(Op.MmioWrite(PlatformDevices.NicBase + Devices.Nic8254x.Tdt, (ulong)net.TxTail));
        p.Program.SyscallReturned(bytes);
        p.LastSend = _platform.Sim.Now;
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

    /// <summary>The NIC's interrupt: read ICR, take every completed receive descriptor through the stack, give the buffers back with one RDT write, wake a waiting receiver.</summary>
    private void NicInterrupt(KernelPath path)
    {
        NetworkState net = _net!;
        path.Execute(Op.MmioRead(PlatformDevices.NicBase + Devices.Nic8254x.Icr));
        int taken = 0;
        while (true)
        {
            ulong status = net.RxRing + ((ulong)net.RxNext * 16) + 8;
            path.Load(status);
            ulong word = Memory.ReadUInt64(status);
            if ((word & ((ulong)Devices.Nic8254x.StatusDd << 32)) == 0)
            {
                break;
            }
            Memory.WriteUInt64(status, 0);
            path.Run(KernelRoutine.NetworkReceive);
            net.Queued.Enqueue(((int)(word & 0xFFFF) - 42, Memory.ReadUInt64(status - 8)));
            net.RxNext = (net.RxNext + 1) % RingEntries;
            taken++;
        }
        if (taken > 0)
        {
            path.Execute(Op.MmioWrite(PlatformDevices.NicBase + Devices.Nic8254x.Rdt, (ulong)((net.RxNext + RingEntries - 1) % RingEntries)));
        }
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

    private sealed class NetworkState(ulong txRing, ulong rxRing, ulong txBuffer)
    {
        public ulong TxRing { get; } = txRing;

        public ulong RxRing { get; } = rxRing;

        /// <summary>Model: one socket buffer frame that every send copies into.</summary>
        public ulong TxBuffer { get; } = txBuffer;

        public int TxTail { get; set; }

        public int RxNext { get; set; }

        public Queue<(int Bytes, ulong Buffer)> Queued { get; } = new();

        public Process? Waiter { get; set; }
    }
}
