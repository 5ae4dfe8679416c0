using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The virtio-net driver, after Linux's virtio_net: at boot the receive queue filled with empty
/// 2 KiB buffers and transmit interrupts left off; per datagram sent, the sent buffers reclaimed
/// from the transmit queue's used ring (free_old_xmit_skbs), one descriptor (virtio_net_hdr and
/// frame) made available, and a kick only if the device has not suppressed it; per interrupt
/// (two register accesses, as for virtio-blk), NAPI: receive interrupts off, every used receive
/// buffer taken through the stack and given back, a kick only if the device asked for buffers,
/// interrupts on again. So a burst of frames costs one interrupt, and a run of sends while the
/// device is transmitting costs no kick.
/// </summary>
public sealed partial class LinuxKernel
{
    private VirtioNetState? _vnet;
    private Counter? _netKicks;
    private Counter? _netSuppressedKicks;

    /// <summary>Boot-time set-up (not timed): both queues, the receive buffers posted, transmit interrupts off, the line routed.</summary>
    private void StartVirtioNet(VirtioNet device)
    {
        var rx = new VirtqueueDriver(Memory, device, VirtioNet.ReceiveQueue);
        var tx = new VirtqueueDriver(Memory, device, VirtioNet.TransmitQueue);
        KernelPath boot = NewPath(); // boot work is not timed: this path is never run
        var buffers = new ulong[Virtqueue.Capacity];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = Memory.AllocateFrame();
            rx.WriteDescriptor(i, buffers[i], 2048, Virtqueue.DescriptorWrite, 0);
            rx.Publish(boot, (ushort)i, (ushort)i);
        }
        tx.Interrupts(boot, wanted: false);
        device.Write(VirtioMmioDevice.Status, 0xF); // ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK
        RouteIrq(PlatformDevices.VirtioNetIrq, NicVector, levelTriggered: device.Transport == VirtioTransport.Mmio); // MSI-X messages are edges
        StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel.virtio_net");
        _netKicks = stats.Counter("kicks", "count", "sends (and receive refills) after which the driver notified the device");
        _netSuppressedKicks = stats.Counter("suppressed_kicks", "count", "sends and refills the device took without a notification (it had asked for none)");
        _vnet = new VirtioNetState(rx, tx, buffers);
    }

    /// <summary>start_xmit: sent buffers reclaimed, the frame's descriptor (header and frame) made available, a kick unless suppressed.</summary>
    private void VirtioNetTransmit(KernelPath path, ulong buffer, int frame)
    {
        VirtioNetState v = _vnet!;
        path.Load(v.Tx.Used); // free_old_xmit_skbs: the used ring's index
        while (v.Tx.TryTakeUsed(path, out _, out _))
        {
            // each sent buffer is freed: the socket's buffers are reused as the device reads them (UdpSocket.TxBuffer), so there is nothing else to do
        }
        ushort slot = (ushort)(v.TxNext++ % Virtqueue.Capacity);
        v.PublishedAt[buffer] = (ushort)v.TxNext; // the device has read it once its used index reaches this
        v.Tx.WriteDescriptor(slot, buffer, (uint)(frame + VirtioNet.HeaderBytes), 0, 0);
        path.Store(buffer); // the virtio_net_hdr in front of the frame
        Kick(path, v.Tx.Publish(path, slot, slot), PlatformDevices.VirtioNetBase, _netKicks!, _netSuppressedKicks!);
    }

    /// <summary>The interrupt: acknowledged, then NAPI's poll of the receive queue with its interrupts off, each buffer given back; a waiting receiver woken.</summary>
    private StagedStream VirtioNetInterrupt(Core core, KernelPath path, bool preemptible) =>
        VirtioInterrupt(core, path, preemptible, PlatformDevices.VirtioNetBase, _platform.Devices.VirtioNet!.Transport, rest =>
        {
            VirtioNetState v = _vnet!;
            v.Rx.Interrupts(rest, wanted: false);
            rest.Load(v.Rx.Used);
            bool kick = false;
            while (v.Rx.TryTakeUsed(rest, out ushort head, out uint length))
            {
                rest.Run(KernelRoutine.NetworkReceive);
                Demultiplex(rest, v.RxBuffers[head], (int)length - VirtioNet.HeaderBytes - EthernetLink.UdpHeaderBytes);
                v.Rx.WriteDescriptor(head, v.RxBuffers[head], 2048, Virtqueue.DescriptorWrite, 0);
                kick |= v.Rx.Publish(rest, head, head);
            }
            if (kick)
            {
                Kick(rest, wanted: true, PlatformDevices.VirtioNetBase, _netKicks!, _netSuppressedKicks!);
            }
            v.Rx.Interrupts(rest, wanted: true);
            WakeReceivers(rest);
        });

    private sealed class VirtioNetState(VirtqueueDriver rx, VirtqueueDriver tx, ulong[] rxBuffers)
    {
        public VirtqueueDriver Rx { get; } = rx;

        public VirtqueueDriver Tx { get; } = tx;

        /// <summary>The receive buffer behind each receive descriptor.</summary>
        public ulong[] RxBuffers { get; } = rxBuffers;

        public int TxNext { get; set; }

        /// <summary>Each transmit buffer's place in the sends: the count of buffers published up to and including its latest.</summary>
        public Dictionary<ulong, ushort> PublishedAt { get; } = [];

        /// <summary>Whether the device has yet to read <paramref name="buffer"/>'s latest frame (its used index is behind it).</summary>
        public bool TxInFlight(ulong buffer) => PublishedAt.TryGetValue(buffer, out ushort at) && (short)(ushort)(Tx.DeviceUsed - at) < 0;
    }
}
