using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The 82599's driver, after Linux's ixgbe (drivers/net/ethernet/intel/ixgbe/ixgbe_main.c): at boot
/// a queue pair per CPU, up to the card's sixteen RSS queues (ixgbe_set_rss_queues), each queue's
/// MSI-X vector aimed at its CPU (the q_vector's affinity), the RSS key and a redirection table
/// spreading its 128 entries over the queues in turn (ixgbe_setup_reta), and every queue's cause
/// auto-cleared and auto-masked (EIAC, EIAM: ixgbe_configure_msix). A send goes out on the sending
/// CPU's queue (XPS), under that queue's lock alone. A queue's interrupt reads no register
/// (ixgbe_msix_clean_rings only schedules NAPI); the poll (ixgbe_poll, ixgbe_clean_rx_irq) takes
/// every done descriptor through the stack, gives the buffers back (their addresses written again
/// over the write-back) with one RDT write, and re-enables the queue's cause with one EIMS write
/// (ixgbe_irq_enable_queues): two register writes an interrupt and no read, against the e1000's
/// three reads and three writes.
/// </summary>
public sealed partial class LinuxKernel
{
    private IxgbeState? _ixgbe;

    /// <summary>Boot-time set-up of the 82599 (not timed): its rings, buffers, RSS and messages.</summary>
    private void StartIxgbe(Nic82599 nic)
    {
        int queues = Math.Min(_platform.Devices.LogicalCpus, Nic82599.MostQueues);
        var state = new IxgbeQueue[queues];
        uint causes = 0;
        for (int q = 0; q < queues; q++)
        {
            ulong tx = Memory.AllocateFrame();
            ulong rx = Memory.AllocateFrame();
            var buffers = new ulong[RingEntries];
            for (int i = 0; i < RingEntries; i++)
            {
                buffers[i] = Memory.AllocateFrame(); // the read format's packet buffer, a frame each
                Memory.WriteUInt64(rx + ((ulong)i * 16), buffers[i]);
            }
            ulong rxRegisters = Nic82599.ReceiveQueues + ((ulong)q * Nic82599.QueueStride);
            ulong txRegisters = Nic82599.TransmitQueues + ((ulong)q * Nic82599.QueueStride);
            nic.Write(rxRegisters + Nic82599.Dbah, rx >> 32);
            nic.Write(rxRegisters + Nic82599.Dbal, rx & 0xFFFF_FFFF);
            nic.Write(rxRegisters + Nic82599.Dlen, RingEntries * 16);
            nic.Write(rxRegisters + Nic82599.Dctl, Nic82599.QueueEnable);
            nic.Write(rxRegisters + Nic82599.Dt, RingEntries - 1);
            nic.Write(txRegisters + Nic82599.Dbah, tx >> 32);
            nic.Write(txRegisters + Nic82599.Dbal, tx & 0xFFFF_FFFF);
            nic.Write(txRegisters + Nic82599.Dlen, RingEntries * 16);
            nic.Write(txRegisters + Nic82599.Dctl, Nic82599.QueueEnable);
            nic.SetMessage(q, q, NicVector);
            state[q] = new IxgbeQueue(q, tx, rx, Memory.AllocateFrame(), buffers);
            causes |= 1u << q;
        }
        ReadOnlySpan<byte> key = RssHash.VerificationKey;
        for (int i = 0; i < Nic82599.KeyBytes; i += 4)
        {
            nic.Write(Nic82599.Rssrk + (ulong)i, (uint)(key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24)));
        }
        for (int i = 0; i < Nic82599.RedirectionEntries; i += 4)
        {
            nic.Write(Nic82599.Reta + (ulong)i, (uint)((i % queues) | (((i + 1) % queues) << 8) | (((i + 2) % queues) << 16) | (((i + 3) % queues) << 24)));
        }
        // The model's frames stand for the TCP segments of web's and netperf-stream's connections, which ixgbe hashes by their ports by default.
        nic.Write(Nic82599.Mrqc, Nic82599.MrqcRss | Nic82599.MrqcIpv4 | Nic82599.MrqcIpv4Tcp | Nic82599.MrqcIpv4Udp);
        nic.Write(Nic82599.Eiac, causes);
        nic.Write(Nic82599.Eiam, causes);
        nic.Write(Nic82599.Eims, causes);
        _ixgbe = new IxgbeState(state);
    }

    /// <summary>The queue a send from the current CPU goes out on (XPS: the CPU's own).</summary>
    private IxgbeQueue IxgbeTransmitQueue => _ixgbe!.Queues[_this.Index % _ixgbe.Queues.Length];

    /// <summary>ixgbe_xmit_frame_ring on the CPU's queue: an advanced data descriptor written in memory, and the queue's TDT write.</summary>
    private void IxgbeTransmit(KernelPath path, ulong buffer, int frame)
    {
        IxgbeQueue q = IxgbeTransmitQueue;
        ulong descriptor = q.TxRing + ((ulong)q.TxTail * 16);
        Memory.WriteUInt64(descriptor, buffer);
        uint command = (uint)frame | Nic82599.TransmitData | Nic82599.TransmitEnd | Nic82599.TransmitFcs | Nic82599.TransmitReport | Nic82599.TransmitExtended;
        Memory.WriteUInt64(descriptor + 8, command | ((ulong)frame << (32 + 14))); // cmd_type_len; olinfo_status's PAYLEN
        path.Store(descriptor).Store(descriptor + 8);
        q.TxTail = (q.TxTail + 1) % RingEntries;
        path.Execute(Op.MmioWrite(PlatformDevices.NicBase + Nic82599.TransmitQueues + ((ulong)q.Index * Nic82599.QueueStride) + Nic82599.Dt, (ulong)q.TxTail));
    }

    /// <summary>A queue's interrupt on its CPU, and its NAPI poll: the done descriptors through the stack, the buffers given back, RDT and EIMS written.</summary>
    private void IxgbeInterrupt(KernelPath path)
    {
        IxgbeQueue q = _ixgbe!.Queues[_this.Index];
        int taken = 0;
        while (true)
        {
            ulong descriptor = q.RxRing + ((ulong)q.RxNext * 16);
            path.Load(descriptor + 8);
            ulong status = Memory.ReadUInt64(descriptor + 8);
            if ((status & Nic82599.ReceiveDone) == 0)
            {
                break;
            }
            ulong buffer = q.Buffers[q.RxNext];
            path.Run(KernelRoutine.NetworkReceive);
            Demultiplex(path, buffer, (int)(status >> 32 & 0xFFFF) - EthernetLink.UdpHeaderBytes);
            Memory.WriteUInt64(descriptor, buffer); // ixgbe_alloc_rx_buffers: the buffer's address again, over the write-back
            Memory.WriteUInt64(descriptor + 8, 0);
            path.Store(descriptor);
            q.RxNext = (q.RxNext + 1) % RingEntries;
            taken++;
        }
        ulong registers = PlatformDevices.NicBase + Nic82599.ReceiveQueues + ((ulong)q.Index * Nic82599.QueueStride);
        if (taken > 0)
        {
            path.Execute(Op.MmioWrite(registers + Nic82599.Dt, (ulong)((q.RxNext + RingEntries - 1) % RingEntries)));
        }
        path.Execute(Op.MmioWrite(PlatformDevices.NicBase + Nic82599.Eims, 1UL << q.Index));
        WakeReceivers(path);
    }

    private sealed class IxgbeState(IxgbeQueue[] queues)
    {
        /// <summary>The queue pairs, one per CPU in CPU order.</summary>
        public IxgbeQueue[] Queues { get; } = queues;
    }

    /// <summary>A queue pair's rings and positions, its receive buffers' addresses (the write-back overwrites them in the ring), and its transmit lock's word.</summary>
    private sealed class IxgbeQueue
    {
        public IxgbeQueue(int index, ulong txRing, ulong rxRing, ulong txLock, ulong[] buffers)
        {
            (Index, TxRing, RxRing, TxLock, Buffers) = (index, txRing, rxRing, txLock, buffers);
        }

        public int Index { get; }

        public ulong TxRing { get; }

        public ulong RxRing { get; }

        public ulong TxLock { get; }

        public ulong[] Buffers { get; }

        public int TxTail { get; set; }

        public int RxNext { get; set; }
    }
}
