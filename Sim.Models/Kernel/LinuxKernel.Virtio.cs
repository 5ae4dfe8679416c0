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
/// write, or a paravirtual kernel's event); per interrupt the handler reads InterruptStatus, writes
/// it back to InterruptACK (unless events replace interrupts), and completes every request the
/// used ring holds: two register accesses however many complete. Under a hypervisor the kicks
/// and those two accesses are the exits.
/// </summary>
public sealed partial class LinuxKernel
{
    private const int VirtioSlots = VirtioBlock.QueueSize / 3; // three descriptors per request

    private VirtioState? _virtio;
    private Counter? _kicks;
    private Counter? _suppressedKicks;

    /// <summary>Boot-time set-up (not timed): the virtqueue's memory, the device's registers, the line routed.</summary>
    private void StartVirtio()
    {
        VirtioBlock device = _platform.Devices.Virtio!;
        var state = new VirtioState(Memory.AllocateFrame(), Memory.AllocateFrame(), Memory.AllocateFrame(), Memory.AllocateFrame());
        device.Write(VirtioBlock.QueueNum, VirtioBlock.QueueSize);
        device.Write(VirtioBlock.QueueDescLow, state.Descriptors);
        device.Write(VirtioBlock.QueueDriverLow, state.Available);
        device.Write(VirtioBlock.QueueDeviceLow, state.Used);
        device.Write(VirtioBlock.QueueReady, 1);
        device.Write(VirtioBlock.Status, 0xF); // ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK
        RouteIrq(PlatformDevices.VirtioIrq, DiskVector, levelTriggered: true);
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
        WriteDescriptor(v, head, header, 16, VirtioBlock.DescriptorNext, (ushort)(head + 1));
        WriteDescriptor(v, head + 1, request.Buffer, (uint)request.Sectors * 512,
            (ushort)(VirtioBlock.DescriptorNext | (request.Write ? 0 : VirtioBlock.DescriptorWrite)), (ushort)(head + 2));
        WriteDescriptor(v, head + 2, status, 1, VirtioBlock.DescriptorWrite, 0);
        ulong ringEntry = v.Available + 4 + (2UL * (ulong)(v.AvailableIndex % VirtioBlock.QueueSize));
        WriteU16(ringEntry, head);
        v.AvailableIndex++;
        WriteU16(v.Available + 2, v.AvailableIndex);
        path.Store(header).Store(v.Descriptors + (16UL * head)).Store(v.Descriptors + (16UL * (ulong)(head + 2))).Store(ringEntry).Store(v.Available);
        v.Requests[slot] = request;
        path.Load(v.Used); // the used ring's flags: does the device want a kick?
        if ((ReadU16(v.Used) & VirtioBlock.UsedNoNotify) == 0)
        {
            _ops.NotifyDevice(path, PlatformDevices.VirtioBase + VirtioBlock.QueueNotify);
            _kicks!.Increment();
        }
        else
        {
            _suppressedKicks!.Increment();
        }
    }

    /// <summary>The interrupt: InterruptStatus read, then written to InterruptACK, and every used entry completed; waiting requests added.</summary>
    private StagedStream VirtioInterrupt(Core core, KernelPath path, bool preemptible)
    {
        bool acknowledge = _ops.DriverAcknowledgesDevice;
        if (acknowledge)
        {
            path.Execute(Op.MmioRead(PlatformDevices.VirtioBase + VirtioBlock.InterruptStatus));
        }
        return new StagedStream(path.ToStream(), () =>
        {
            VirtioState v = _virtio!;
            KernelPath rest = NewPath();
            if (acknowledge)
            {
                rest.Execute(Op.MmioWrite(PlatformDevices.VirtioBase + VirtioBlock.InterruptAck, core.LastReadValue));
            }
            rest.Load(v.Used);
            ushort usedIndex = ReadU16(v.Used + 2);
            while (v.LastUsed != usedIndex)
            {
                ulong entry = v.Used + 4 + (8UL * (ulong)(v.LastUsed % VirtioBlock.QueueSize));
                rest.Load(entry);
                int slot = (int)Memory.ReadField(entry, 4) / 3; // the entry's 32-bit id: the chain's head
                v.LastUsed++;
                DiskRequest request = v.Requests[slot]!;
                v.Requests[slot] = null;
                CompleteDisk(rest, request);
            }
            while (v.Waiting.Count > 0 && v.FreeSlot() is >= 0 and int free)
            {
                (DiskRequest request, ulong sector) = v.Waiting.Dequeue();
                Add(rest, v, free, request, sector);
            }
            return new StagedStream.Stage(FinishInterrupt(core, rest, preemptible), null);
        });
    }

    private void WriteDescriptor(VirtioState v, int index, ulong address, uint length, ushort flags, ushort next)
    {
        ulong at = v.Descriptors + (16UL * (ulong)index);
        Memory.WriteUInt64(at, address);
        Memory.WriteUInt64(at + 8, length | ((ulong)flags << 32) | ((ulong)next << 48));
    }

    private ushort ReadU16(ulong address) => (ushort)Memory.ReadField(address, 2);

    private void WriteU16(ulong address, ushort value) => Memory.WriteField(address, 2, value);

    private sealed class VirtioState(ulong descriptors, ulong available, ulong used, ulong headers)
    {
        public ulong Descriptors { get; } = descriptors;

        public ulong Available { get; } = available;

        public ulong Used { get; } = used;

        /// <summary>Request headers (16 bytes per slot), then status bytes from offset 2048.</summary>
        public ulong Headers { get; } = headers;

        public ushort AvailableIndex { get; set; }

        public ushort LastUsed { get; set; }

        public DiskRequest?[] Requests { get; } = new DiskRequest?[VirtioSlots];

        public Queue<(DiskRequest Request, ulong Sector)> Waiting { get; } = new();

        public int InFlight => Requests.Count(r => r is not null) + Waiting.Count;

        public int FreeSlot() => Array.IndexOf(Requests, null);
    }
}
