using Sim.Models.Devices;
using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The driver's side of a split virtqueue (after Linux's virtio_ring): its descriptor table and
/// available and used rings in memory, given to the device at boot; chains written and their
/// heads made available; the used ring read back. Each method changes memory at once and adds to
/// the path the loads and stores that the driver's code makes, so their cost comes from the caches.
/// </summary>
internal sealed class VirtqueueDriver
{
    private readonly PhysicalMemory _memory;
    private ushort _availableIndex;
    private ushort _lastUsed;

    /// <summary>Allocates the queue's table and rings and gives them to queue <paramref name="queue"/> of <paramref name="device"/> (boot, not timed).</summary>
    public VirtqueueDriver(PhysicalMemory memory, VirtioMmioDevice device, int queue)
    {
        _memory = memory;
        (Descriptors, Available, Used) = (memory.AllocateFrame(), memory.AllocateFrame(), memory.AllocateFrame());
        device.Write(VirtioMmioDevice.QueueSel, (ulong)queue);
        device.Write(VirtioMmioDevice.QueueNum, Virtqueue.Capacity);
        device.Write(VirtioMmioDevice.QueueDescLow, Descriptors);
        device.Write(VirtioMmioDevice.QueueDriverLow, Available);
        device.Write(VirtioMmioDevice.QueueDeviceLow, Used);
        device.Write(VirtioMmioDevice.QueueReady, 1);
    }

    public ulong Descriptors { get; }

    public ulong Available { get; }

    public ulong Used { get; }

    public void WriteDescriptor(int index, ulong address, uint length, ushort flags, ushort next)
    {
        ulong at = Descriptors + (16UL * (ulong)index);
        _memory.WriteUInt64(at, address);
        _memory.WriteUInt64(at + 8, length | ((ulong)flags << 32) | ((ulong)next << 48));
    }

    /// <summary>
    /// virtqueue_add's end and virtqueue_kick_prepare: <paramref name="head"/> put in the available
    /// ring and the ring's index advanced (the chain's first and last descriptors and the two ring
    /// words stored), then the used ring's flags read; true if the device wants a kick.
    /// </summary>
    public bool Publish(KernelPath path, ushort head, ushort last)
    {
        ulong ringEntry = Available + 4 + (2UL * (ulong)(_availableIndex % Virtqueue.Capacity));
        WriteU16(ringEntry, head);
        _availableIndex++;
        WriteU16(Available + 2, _availableIndex);
        path.Store(Descriptors + (16UL * head));
        if (last != head)
        {
            path.Store(Descriptors + (16UL * last));
        }
        path.Store(ringEntry).Store(Available).Load(Used);
        return (ReadU16(Used) & Virtqueue.UsedNoNotify) == 0;
    }

    /// <summary>The device's used index as it stands in memory: how many chains it has returned in all (read by the model, not by the driver: no reference is made).</summary>
    public ushort DeviceUsed => ReadU16(Used + 2);

    /// <summary>virtqueue_get_buf: the next chain the device returned (its head and the length it wrote), with the loads that find it; false when there is none.</summary>
    public bool TryTakeUsed(KernelPath path, out ushort head, out uint length)
    {
        (head, length) = (0, 0);
        if (_lastUsed == ReadU16(Used + 2))
        {
            return false;
        }
        ulong entry = Used + 4 + (8UL * (ulong)(_lastUsed % Virtqueue.Capacity));
        path.Load(entry);
        head = (ushort)_memory.ReadField(entry, 4);
        length = (uint)_memory.ReadField(entry + 4, 4);
        _lastUsed++;
        return true;
    }

    /// <summary>virtqueue_disable_cb and virtqueue_enable_cb: the driver asks for no used-buffer interrupts (NAPI polling), or for them again; a store of the available ring's flags.</summary>
    public void Interrupts(KernelPath path, bool wanted)
    {
        WriteU16(Available, wanted ? (ushort)0 : Virtqueue.AvailNoInterrupt);
        path.Store(Available);
    }

    private ushort ReadU16(ulong address) => (ushort)_memory.ReadField(address, 2);

    private void WriteU16(ulong address, ushort value) => _memory.WriteField(address, 2, value);
}
