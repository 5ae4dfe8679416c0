using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The virtio-blk driver, after Linux's virtio_blk and virtio_ring: at boot the virtqueue's
/// descriptor table, available and used rings allocated and given to the device; per request a
/// chain of three descriptors (header, data, status) written, its head put in the available ring
/// and the ring's index advanced, then a kick (a write of QueueNotify) only if the device has not
/// set VRING_USED_F_NO_NOTIFY (through <see cref="IPrivilegedOperations.NotifyDevice"/>: a register
/// write, or a paravirtual kernel's event); per interrupt the handler completes every request the
/// used ring holds, after, on virtio-mmio's line, reading InterruptStatus and writing it back to
/// InterruptACK (unless events replace interrupts): two register accesses however many complete;
/// virtio-pci's MSI-X message needs neither. Under a hypervisor the kicks and those accesses are
/// the exits.
/// </summary>
public sealed partial class LinuxKernel
{
    private const int VirtioSlots = Virtqueue.Capacity / 3; // three descriptors per request

    private VirtioState? _virtio;
    private Counter? _kicks;
    private Counter? _suppressedKicks;

    /// <summary>Boot-time set-up (not timed): the virtqueue's memory, the device's registers, the line routed.</summary>
    private void StartVirtio()
    {
        VirtioBlock device = _platform.Devices.Virtio!;
        var state = new VirtioState(new VirtqueueDriver(Memory, device, queue: 0), Memory.AllocateFrame());
        device.Write(VirtioMmioDevice.Status, 0xF); // ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK
        RouteIrq(PlatformDevices.VirtioIrq, DiskVector, levelTriggered: device.Transport == VirtioTransport.Mmio); // MSI-X messages are edges
        StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel.virtio");
        _kicks = stats.Counter("kicks", "count", "requests after which the driver notified the device");
        _suppressedKicks = stats.Counter("suppressed_kicks", "count", "requests the device took without a notification (it had asked for none)");
        _virtio = state;
    }

    private void VirtioSubmit(KernelPath path, DiskRequest request, ulong sector)
    {
        VirtioState v = _virtio!;
        if (v.FreeSlot() is not (>= 0 and int slot))
        {
            v.Waiting.Enqueue((request, sector));
            return;
        }
        Add(path, v, slot, request, sector);
    }

    /// <summary>virtqueue_add and virtqueue_kick_prepare: the chain written, the head made available, and a kick unless the device suppressed it.</summary>
    private void Add(KernelPath path, VirtioState v, int slot, DiskRequest request, ulong sector)
    {
        ushort head = (ushort)(slot * 3);
        ulong header = v.Headers + ((ulong)slot * 16), status = v.Headers + 2048 + (ulong)slot;
        Memory.WriteUInt64(header, request.Write ? VirtioBlock.TypeOut : VirtioBlock.TypeIn);
        Memory.WriteUInt64(header + 8, sector);
        VirtqueueDriver q = v.Queue;
        q.WriteDescriptor(head, header, 16, Virtqueue.DescriptorNext, (ushort)(head + 1));
        q.WriteDescriptor(head + 1, request.Buffer, (uint)request.Sectors * 512,
            (ushort)(Virtqueue.DescriptorNext | (request.Write ? 0 : Virtqueue.DescriptorWrite)), (ushort)(head + 2));
        q.WriteDescriptor(head + 2, status, 1, Virtqueue.DescriptorWrite, 0);
        path.Store(header);
        v.Requests[slot] = request;
        Kick(path, q.Publish(path, head, (ushort)(head + 2)), PlatformDevices.VirtioBase, _kicks!, _suppressedKicks!);
    }

    /// <summary>virtqueue_notify: a kick of the device at <paramref name="deviceBase"/> when it wants one (a register write, or a paravirtual kernel's event), counted either way.</summary>
    private void Kick(KernelPath path, bool wanted, ulong deviceBase, Counter kicks, Counter suppressed)
    {
        if (wanted)
        {
            _ops.NotifyDevice(path, deviceBase + VirtioMmioDevice.QueueNotify);
            kicks.Increment();
        }
        else
        {
            suppressed.Increment();
        }
    }

    /// <summary>
    /// The interrupt of a virtio device at <paramref name="deviceBase"/>: on virtio-mmio's line
    /// InterruptStatus read, then written to InterruptACK (unless events replace interrupts: the
    /// hypervisor acknowledges as it delivers them); on virtio-pci's MSI-X nothing (the message
    /// is the queue's); then <paramref name="complete"/> takes the used buffers.
    /// </summary>
    private StagedStream VirtioInterrupt(Core core, KernelPath path, bool preemptible, ulong deviceBase, VirtioTransport transport, Action<KernelPath> complete)
    {
        bool acknowledge = _ops.DriverAcknowledgesDevice && transport == VirtioTransport.Mmio;
        if (acknowledge)
        {
            path.Execute(Op.MmioRead(deviceBase + VirtioMmioDevice.InterruptStatus));
        }
        return new StagedStream(path.ToStream(), () =>
        {
            Enter(core); // built when the read has run: other CPUs' traps may have come between
            KernelPath rest = NewPath();
            if (acknowledge)
            {
                rest.Execute(Op.MmioWrite(deviceBase + VirtioMmioDevice.InterruptAck, core.LastReadValue));
            }
            complete(rest);
            return new StagedStream.Stage(FinishInterrupt(core, rest, preemptible), null);
        });
    }

    /// <summary>The block device's interrupt: every used entry completed, waiting requests added.</summary>
    private StagedStream VirtioBlockInterrupt(Core core, KernelPath path, bool preemptible) =>
        VirtioInterrupt(core, path, preemptible, PlatformDevices.VirtioBase, _platform.Devices.Virtio!.Transport, rest =>
        {
            VirtioState v = _virtio!;
            rest.Load(v.Queue.Used); // the used ring's index
            while (v.Queue.TryTakeUsed(rest, out ushort head, out _))
            {
                int slot = head / 3;
                DiskRequest request = v.Requests[slot]!;
                v.Requests[slot] = null;
                CompleteDisk(rest, request);
            }
            while (v.Waiting.Count > 0 && v.FreeSlot() is >= 0 and int free)
            {
                (DiskRequest request, ulong sector) = v.Waiting.Dequeue();
                Add(rest, v, free, request, sector);
            }
        });

    private sealed class VirtioState(VirtqueueDriver queue, ulong headers)
    {
        public VirtqueueDriver Queue { get; } = queue;

        /// <summary>Request headers (16 bytes per slot), then status bytes from offset 2048.</summary>
        public ulong Headers { get; } = headers;

        public DiskRequest?[] Requests { get; } = new DiskRequest?[VirtioSlots];

        public BlockQueue<(DiskRequest Request, ulong Sector)> Waiting { get; } = new(r => r.Request.Write);

        public int InFlight => Requests.Count(r => r is not null) + Waiting.Count;

        public int FreeSlot() => Array.IndexOf(Requests, null);
    }
}
