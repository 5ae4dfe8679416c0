namespace Sim.Models.Devices;

/// <summary>
/// A device whose queue a polling I/O thread looks at instead of waiting for its kicks (QEMU's
/// io_poll handlers of a virtqueue, hw/virtio/virtio.c: virtio_queue_aio_poll_begin and _end,
/// virtio_queue_host_notifier_aio_poll): while the thread polls, the device asks the driver for
/// no notifications, and the thread takes what the driver makes available when it sees it.
/// </summary>
public interface IPolledDevice
{
    /// <summary>The thread starts polling: the driver is asked for no kicks.</summary>
    void PollBegin();

    /// <summary>The thread stops polling (it will block): kicks are wanted again.</summary>
    void PollEnd();

    /// <summary>The guest-physical address a poll reads: the available ring's index.</summary>
    ulong PolledAddress { get; }

    /// <summary>Whether the driver has made requests available that the device has not taken.</summary>
    bool HasAvailable { get; }

    /// <summary>Takes every request made available, as a kick's handler would.</summary>
    void TakePolled();
}
