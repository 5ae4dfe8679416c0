using Sim.Engine;
using Sim.Engine.Statistics;
using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// A device with the virtio-mmio register interface (virtio 1.1 specification, section 4.2.2),
/// as the model's virtio devices share it: MagicValue, Version 2, DeviceID, QueueSel selecting
/// the queue whose QueueNumMax, QueueNum, QueueReady and ring addresses (QueueDesc, QueueDriver,
/// QueueDevice, low halves) the next accesses reach, QueueNotify (a kick, its value the queue),
/// InterruptStatus and InterruptACK, and Status. Over virtio-mmio (<see cref="VirtioTransport.Mmio"/>)
/// the interrupt line stays up while any status bit is set, so events that come before the
/// driver's acknowledgement share one interrupt; over virtio-pci's MSI-X each event is a message
/// of its own and no status is kept (<see cref="VirtioTransport.Pci"/>).
/// </summary>
public abstract class VirtioMmioDevice : IMmioDevice
{
    public const ulong Size = 0x200;

    public const ulong MagicValue = 0x000, Version = 0x004, DeviceId = 0x008, QueueSel = 0x030, QueueNumMax = 0x034, QueueNum = 0x038, QueueReady = 0x044,
        QueueNotify = 0x050, InterruptStatus = 0x060, InterruptAck = 0x064, Status = 0x070, QueueDescLow = 0x080, QueueDriverLow = 0x090, QueueDeviceLow = 0x0A0,
        Config = 0x100;

    /// <summary>InterruptStatus's bits: the device used buffers (VIRTIO_MMIO_INT_VRING), or its configuration space changed (VIRTIO_MMIO_INT_CONFIG).</summary>
    public const uint UsedBuffers = 1, ConfigurationChange = 2;

    private readonly int _accessCycles;
    private readonly Counter _notifies;
    private readonly Counter _accesses;
    private readonly InterruptLine _line;
    private uint _status, _interruptStatus, _selected;

    protected VirtioMmioDevice(Simulator sim, string name, PhysicalMemory memory, int queues, int accessCycles, Action raiseInterrupt, Action lowerInterrupt,
        VirtioTransport transport = VirtioTransport.Mmio)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(memory);
        (Sim, Name, Memory, _accessCycles, Transport) = (sim, name, memory, accessCycles, transport);
        Queues = [.. Enumerable.Range(0, queues).Select(_ => new Virtqueue(memory))];
        Stats = sim.Stats.Group(name);
        _notifies = Stats.Counter("notifications", "count", "kicks: writes of QueueNotify");
        _line = new InterruptLine(raiseInterrupt, lowerInterrupt, Stats.Counter("interrupts", "count", "times the interrupt line was raised"));
        _accesses = Stats.Counter("accesses", "count", "register accesses");
    }

    public string Name { get; }

    /// <summary>How the device interrupts: a message per notification (virtio-pci's MSI-X), or its line and InterruptStatus (virtio-mmio).</summary>
    public VirtioTransport Transport { get; }

    protected Simulator Sim { get; }

    protected PhysicalMemory Memory { get; }

    protected StatGroup Stats { get; }

    /// <summary>Where a monitor's software model of the device records what an access does (null for a real device): the rings' reads and writes and the device's own.</summary>
    public EmulationWork? Emulation
    {
        get;
        set
        {
            field = value;
            foreach (Virtqueue q in Queues)
            {
                q.Work = value;
            }
        }
    }

    /// <summary>
    /// The thread on a host CPU that takes the device's kicks and completions (a user-space I/O
    /// thread or a vhost worker), or null when they are handled where they happen: natively by the
    /// device itself, in a monitor by the exit that kicks and the completion event.
    /// </summary>
    public IDeviceBackend? Backend { get; set; }

    /// <summary>
    /// Under a hosted monitor, the thread of its process on the host that takes the host's
    /// completions for the device (a frame read from the host, a request done) and runs the
    /// device's side of them, when the device has no backend thread; null otherwise. Unlike a
    /// backend thread it takes no kicks and the interrupt it makes the device raise goes through
    /// the monitor's own injection, not an irqfd.
    /// </summary>
    public IDeviceBackend? HostCompletions { get; set; }

    /// <summary>A kick's work (<paramref name="take"/>): done at once, or, with a backend thread, an ioeventfd signalled and the work done when the thread runs.</summary>
    protected void Kicked(Action take)
    {
        if (Backend is { } backend)
        {
            Emulation?.Ioeventfd();
            backend.Kick(take);
            return;
        }
        take();
    }

    /// <summary>Work a host event brings (a request done, a frame received): done at once, or by the backend thread once the host's completion wakes it.</summary>
    protected void FromHost(Action work) => (Backend ?? HostCompletions).FromHost(work);

    /// <summary>The device's virtqueues, by index.</summary>
    protected IReadOnlyList<Virtqueue> Queues { get; }

    /// <summary>The virtio device type (1 network card, 2 block device).</summary>
    protected abstract uint DeviceType { get; }

    public (ulong Value, int Cycles) Read(ulong offset)
    {
        _accesses.Increment();
        ulong value = offset switch
        {
            MagicValue => 0x7472_6976, // "virt"
            Version => 2,
            DeviceId => DeviceType,
            QueueNumMax => Virtqueue.Capacity,
            QueueReady => Queues[(int)_selected].Ready ? 1u : 0u,
            InterruptStatus => _interruptStatus,
            Status => _status,
            >= Config => ReadConfig(offset - Config),
            _ => 0,
        };
        return (value, _accessCycles);
    }

    public int Write(ulong offset, ulong value)
    {
        _accesses.Increment();
        Virtqueue q = Queues[(int)_selected];
        switch (offset)
        {
            case QueueSel:
                _selected = value < (ulong)Queues.Count ? (uint)value : throw new InvalidOperationException($"{Name}: there is no queue {value}.");
                break;
            case QueueReady:
                q.Ready = value != 0;
                break;
            case QueueNotify:
                _notifies.Increment();
                Notified((int)value);
                break;
            case InterruptAck:
                _interruptStatus &= ~(uint)value;
                UpdateLine();
                break;
            case Status:
                _status = (uint)value;
                break;
            case QueueDescLow:
                q.Descriptors = value;
                break;
            case QueueDriverLow:
                q.Available = value;
                break;
            case QueueDeviceLow:
                q.Used = value;
                break;
            case >= Config:
                WriteConfig(offset - Config, value);
                break;
        }
        return _accessCycles;
    }

    /// <summary>The driver kicked queue <paramref name="queue"/>.</summary>
    protected abstract void Notified(int queue);

    /// <summary>A read of the device-specific configuration space at <paramref name="offset"/> from its start; the devices without one read zeros.</summary>
    protected virtual ulong ReadConfig(ulong offset) => 0;

    /// <summary>A write of the device-specific configuration space; ignored by the devices without one.</summary>
    protected virtual void WriteConfig(ulong offset, ulong value)
    {
    }

    /// <summary>The device has put buffers in <paramref name="queue"/>'s used ring: the used-buffer interrupt, unless the driver has turned it off for that queue.</summary>
    protected void Interrupt(Virtqueue queue)
    {
        if (queue.DriverWantsInterrupt)
        {
            if (Backend is not null)
            {
                Emulation?.Irqfd(); // a backend thread interrupts the guest through KVM's irqfd
            }
            Signal(UsedBuffers);
        }
    }

    /// <summary>The device changed its configuration space (virtio_notify_config): the configuration-change interrupt.</summary>
    protected void ConfigurationChanged() => Signal(ConfigurationChange);

    /// <summary>The event <paramref name="status"/> signalled: a message of its own under virtio-pci's MSI-X (no status kept), or the bit set and the line up until the driver acknowledges it.</summary>
    private void Signal(uint status)
    {
        if (Transport == VirtioTransport.Pci)
        {
            _line.Pulse();
            return;
        }
        _interruptStatus |= status;
        UpdateLine();
    }

    private void UpdateLine() => _line.Set(_interruptStatus != 0);
}
