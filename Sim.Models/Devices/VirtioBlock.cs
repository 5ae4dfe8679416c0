using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// A paravirtual block device (virtio-blk) with the virtio-mmio register interface and one split
/// virtqueue in guest memory, as the virtio 1.1 specification lays them out (sections 2.6 and
/// 4.2.2): a descriptor table (16 bytes each: address, length, flags, next), an available ring
/// (flags, index, ring of heads) and a used ring (flags, index, ring of id and length). A request
/// is a chain of three descriptors: the 16-byte header (type, sector), the data buffer, and the
/// status byte the device writes. The driver's write to QueueNotify (a kick) makes the device
/// take every request made available since the last; it queues them on the medium, and while
/// any is in flight it sets VRING_USED_F_NO_NOTIFY, so the driver does not kick for the ones it
/// adds meanwhile: the device takes those itself whenever a request completes (vhost's
/// notification suppression). Each completion fills a used-ring entry and sets the interrupt
/// status, unless the driver has set VRING_AVAIL_F_NO_INTERRUPT; the line stays up until the
/// driver writes InterruptACK, so completions that come before it share one interrupt.
/// </summary>
/// <remarks>Model: one queue of <see cref="QueueSize"/> descriptors; no feature negotiation beyond what the model's driver writes; no event-index suppression.</remarks>
public sealed class VirtioBlock : IMmioDevice
{
    public const ulong Size = 0x200;
    public const int QueueSize = 128;

    public const ulong MagicValue = 0x000, Version = 0x004, DeviceId = 0x008, QueueNumMax = 0x034, QueueNum = 0x038, QueueReady = 0x044,
        QueueNotify = 0x050, InterruptStatus = 0x060, InterruptAck = 0x064, Status = 0x070, QueueDescLow = 0x080, QueueDriverLow = 0x090, QueueDeviceLow = 0x0A0;

    public const ushort DescriptorNext = 1, DescriptorWrite = 2;
    public const ushort UsedNoNotify = 1, AvailNoInterrupt = 1;
    public const uint TypeIn = 0, TypeOut = 1;

    private readonly Simulator _sim;
    private readonly PhysicalMemory _memory;
    private readonly IStorageMedium _medium;
    private readonly int _accessCycles;
    private readonly Counter _notifies;
    private readonly Counter _requests;
    private readonly InterruptLine _line;
    private readonly Counter _accesses;
    private ulong _desc, _avail, _used;
    private bool _ready;
    private uint _status, _interruptStatus;
    private ushort _lastAvail, _usedIndex;
    private int _inFlight;
    private Tick _mediumFree;

    public VirtioBlock(Simulator sim, string name, PhysicalMemory memory, IStorageMedium medium, int accessCycles, Action raiseInterrupt, Action lowerInterrupt)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(medium);
        (_sim, Name, _memory, _medium, _accessCycles) = (sim, name, memory, medium, accessCycles);
        StatGroup stats = sim.Stats.Group(name);
        _notifies = stats.Counter("notifications", "count", "kicks: writes of QueueNotify");
        _requests = stats.Counter("requests", "count", "requests taken from the available ring");
        _line = new InterruptLine(raiseInterrupt, lowerInterrupt, stats.Counter("interrupts", "count", "times the interrupt line was raised"));
        _accesses = stats.Counter("accesses", "count", "register accesses");
    }

    public string Name { get; }

    /// <summary>Requests the device has taken and not completed.</summary>
    public int InFlight => _inFlight;

    public (ulong Value, int Cycles) Read(ulong offset)
    {
        _accesses.Increment();
        ulong value = offset switch
        {
            MagicValue => 0x7472_6976, // "virt"
            Version => 2,
            DeviceId => 2,             // block device
            QueueNumMax => QueueSize,
            QueueReady => _ready ? 1u : 0u,
            InterruptStatus => _interruptStatus,
            Status => _status,
            _ => 0,
        };
        return (value, _accessCycles);
    }

    public int Write(ulong offset, ulong value)
    {
        _accesses.Increment();
        switch (offset)
        {
            case QueueReady:
                _ready = value != 0;
                break;
            case QueueNotify:
                _notifies.Increment();
                TakeAvailable();
                break;
            case InterruptAck:
                _interruptStatus &= ~(uint)value;
                UpdateLine();
                break;
            case Status:
                _status = (uint)value;
                break;
            case QueueDescLow:
                _desc = value;
                break;
            case QueueDriverLow:
                _avail = value;
                break;
            case QueueDeviceLow:
                _used = value;
                break;
        }
        return _accessCycles;
    }

    /// <summary>Takes every request made available since the last look, queues it on the medium, and suppresses kicks while any is in flight.</summary>
    private void TakeAvailable()
    {
        if (!_ready)
        {
            throw new InvalidOperationException($"{Name}: a kick before the driver set QueueReady.");
        }
        ushort availIndex = ReadU16(_avail + 2);
        while (_lastAvail != availIndex)
        {
            ushort head = ReadU16(_avail + 4 + (2UL * (ulong)(_lastAvail % QueueSize)));
            _lastAvail++;
            Start(head);
        }
        WriteU16(_used, _inFlight > 0 ? UsedNoNotify : (ushort)0);
    }

    /// <summary>Decodes the chain at <paramref name="head"/> (header, data, status) and queues it on the medium.</summary>
    private void Start(ushort head)
    {
        (ulong header, _, ushort flags, ushort data) = Descriptor(head);
        (_, uint length, _, ushort statusDescriptor) = Descriptor(data); // the data moves by DMA; the model does not copy contents
        (ulong status, _, _, _) = Descriptor(statusDescriptor);
        if ((flags & DescriptorNext) == 0)
        {
            throw new InvalidOperationException($"{Name}: a request without its data descriptor.");
        }
        bool write = (uint)_memory.ReadUInt64(header) == TypeOut;
        ulong sector = _memory.ReadUInt64(header + 8);
        int sectors = (int)(length / 512);
        _requests.Increment();
        _inFlight++;
        MediumAccess access = _medium.Access(sector, sectors, write);
        Tick start = Tick.Max(_sim.Now, _mediumFree);
        _mediumFree = start + access.Occupancy;
        _sim.Schedule(new CallbackEvent($"{Name}.done", () => Complete(head, status, length)), start + access.Latency);
    }

    /// <summary>A request is done: status written, the used ring filled, new requests taken, and the interrupt raised unless the driver has turned it off.</summary>
    private void Complete(ushort head, ulong status, uint length)
    {
        _memory.WriteField(status, 1, 0); // VIRTIO_BLK_S_OK
        ulong entry = _used + 4 + (8UL * (ulong)(_usedIndex % QueueSize));
        _memory.WriteField(entry, 4, head);          // id, a 32-bit field at a 4-byte boundary
        _memory.WriteField(entry + 4, 4, length);    // len
        _usedIndex++;
        WriteU16(_used + 2, _usedIndex);
        _inFlight--;
        TakeAvailable(); // requests added while kicks were suppressed
        if ((ReadU16(_avail) & AvailNoInterrupt) == 0)
        {
            _interruptStatus |= 1;
            UpdateLine();
        }
    }

    private (ulong Address, uint Length, ushort Flags, ushort Next) Descriptor(ushort index)
    {
        ulong at = _desc + (16UL * index);
        ulong word = _memory.ReadUInt64(at + 8);
        return (_memory.ReadUInt64(at), (uint)word, (ushort)(word >> 32), (ushort)(word >> 48));
    }

    private void UpdateLine() => _line.Set(_interruptStatus != 0);

    private ushort ReadU16(ulong address) => (ushort)_memory.ReadField(address, 2);

    private void WriteU16(ulong address, ushort value) => _memory.WriteField(address, 2, value);
}
