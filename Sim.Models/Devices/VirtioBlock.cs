using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// A paravirtual block device (virtio-blk, virtio 1.1 section 5.2) with the virtio-mmio register
/// interface and one split virtqueue (<see cref="Virtqueue"/>). A request is a chain of three
/// descriptors: the 16-byte header (type, sector), the data buffer, and the status byte the
/// device writes. The driver's write to QueueNotify (a kick) makes the device take every request
/// made available since the last and queue them on the medium, with VRING_USED_F_NO_NOTIFY set
/// only while it drains the queue (QEMU's virtio_blk_handle_vq), so a driver that adds a request
/// while the device is not draining kicks for it. Each completion fills a used-ring entry and interrupts unless the driver has set
/// VRING_AVAIL_F_NO_INTERRUPT: a message of its own over virtio-pci's MSI-X; over virtio-mmio's line, completions before the
/// driver's acknowledgement share one interrupt.
/// </summary>
/// <remarks>Model: one queue of <see cref="Virtqueue.Capacity"/> descriptors; no feature negotiation beyond what the model's driver writes; no event-index suppression. A polling I/O thread (<see cref="IPolledDevice"/>) turns kicks off while it polls.</remarks>
public sealed class VirtioBlock : VirtioMmioDevice, IPolledDevice
{
    public const uint TypeIn = 0, TypeOut = 1;

    private readonly DiskImage _disk;
    private readonly Counter _requests;
    private bool _polled;

    public VirtioBlock(Simulator sim, string name, PhysicalMemory memory, DiskImage disk, int accessCycles, Action raiseInterrupt, Action lowerInterrupt, VirtioTransport transport = VirtioTransport.Mmio)
        : base(sim, name, memory, queues: 1, accessCycles, raiseInterrupt, lowerInterrupt, transport)
    {
        ArgumentNullException.ThrowIfNull(disk);
        _disk = disk;
        _requests = Stats.Counter("requests", "count", "requests taken from the available ring");
    }

    /// <summary>The disk behind the device: its sectors on a medium's queue.</summary>
    public DiskImage Disk => _disk;

    protected override uint DeviceType => 2; // block device (virtio 1.1, 5)

    protected override void Notified(int queue) => Kicked(TakeAvailable);

    /// <summary>
    /// A kick's work, as QEMU's virtio_blk_handle_vq and vhost's handle loop do it: kicks turned off
    /// while the queue is drained, every request made available taken and queued on the medium,
    /// kicks turned on again (unless a polling thread wants them off), and the queue looked at
    /// once more for a request added in between.
    /// </summary>
    private void TakeAvailable()
    {
        Virtqueue q = Queues[0];
        do
        {
            q.SuppressNotifications(true);
            TakePolled();
            q.SuppressNotifications(_polled);
        }
        while (q.HasAvailable);
    }

    public void PollBegin()
    {
        _polled = true;
        Queues[0].SuppressNotifications(true);
    }

    public void PollEnd()
    {
        _polled = false;
        Queues[0].SuppressNotifications(false);
    }

    public ulong PolledAddress => Queues[0].Available + 2;

    public bool HasAvailable => Queues[0].HasAvailable;

    public void TakePolled()
    {
        while (Queues[0].TryTake(out ushort head))
        {
            Start(head);
        }
    }

    /// <summary>Decodes the chain at <paramref name="head"/> (header, data, status) and queues it on the medium.</summary>
    private void Start(ushort head)
    {
        Virtqueue q = Queues[0];
        (ulong header, _, ushort flags, ushort data) = q.Descriptor(head);
        (_, uint length, _, ushort statusDescriptor) = q.Descriptor(data); // the data moves by DMA; the model does not copy contents
        (ulong status, _, _, _) = q.Descriptor(statusDescriptor);
        if ((flags & Virtqueue.DescriptorNext) == 0)
        {
            throw new InvalidOperationException($"{Name}: a request without its data descriptor.");
        }
        Emulation?.Read(header, 16); // virtio_blk_handle_request's copy of the request header
        Emulation?.RealIo(); // the request submitted to the backend (blk_aio_preadv or pwritev)
        bool write = (uint)Memory.ReadUInt64(header) == TypeOut;
        ulong sector = Memory.ReadUInt64(header + 8);
        int sectors = (int)(length / 512);
        _requests.Increment();
        Sim.Schedule(new CallbackEvent($"{Name}.done", () => FromHost(() => Complete(head, status, length))), _disk.Submit(sector, sectors, write));
    }

    /// <summary>A request is done: status written, the used ring filled, and the interrupt raised unless the driver has turned it off.</summary>
    private void Complete(ushort head, ulong status, uint length)
    {
        Memory.WriteField(status, 1, 0); // VIRTIO_BLK_S_OK
        Queues[0].PutUsed(head, length);
        Interrupt(Queues[0]);
    }
}
