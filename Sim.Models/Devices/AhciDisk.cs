using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// A SATA disk behind an AHCI host bus adapter with one port and native command queuing, with
/// the register interface of the Serial ATA AHCI 1.3.1 specification: the generic host control
/// registers (CAP, GHC, IS, PI, VS) and port 0's (PxCLB, PxFB, PxIS, PxIE, PxCMD, PxTFD, PxSSTS,
/// PxSACT, PxCI) at offset 0x100. The driver builds each command in memory: a 32-byte command
/// header in the command list (FIS length, write bit, PRDT length, command table address) and a
/// command table holding a host-to-device register FIS (READ or WRITE FPDMA QUEUED, the LBA, the
/// sector count in the features field, the tag in the count field) and a PRDT entry for the
/// buffer; then it writes the slot's bit to PxSACT and to PxCI: two register writes per command.
/// The adapter reads the command from memory, queues it on the medium, and on completion clears
/// the slot's PxSACT bit (a Set Device Bits FIS), sets PxIS.SDBS and IS, and raises its level
/// interrupt, which stays up until the driver clears both; one interrupt may report several
/// completions.
/// </summary>
/// <remarks>
/// Model: one port, one device, 32 slots; data is moved by DMA without touching the CPU caches
/// (real DMA snoops them); the command's fetch costs a fixed time (<see cref="PlatformTimings"/>);
/// the medium overlaps requests as its <see cref="IStorageMedium"/> allows; a malformed command
/// sets the task-file error status and completes the slot with an error.
/// </remarks>
public sealed class AhciDisk : IMmioDevice
{
    public const ulong Cap = 0x00, Ghc = 0x04, Is = 0x08, Pi = 0x0C, Vs = 0x10;
    public const ulong PxClb = 0x100, PxFb = 0x108, PxIs = 0x110, PxIe = 0x114, PxCmd = 0x118, PxTfd = 0x120, PxSsts = 0x128, PxSact = 0x134, PxCi = 0x138;
    public const ulong Size = 0x180;
    public const uint GhcAhciEnable = 1u << 31, GhcInterruptEnable = 1u << 1;
    public const uint PxIsSetDeviceBits = 1u << 3, PxIsTaskFileError = 1u << 30;
    public const uint PxCmdStart = 1u << 0, PxCmdFisReceive = 1u << 4;
    public const byte FisHostToDevice = 0x27;
    public const byte ReadFpdmaQueued = 0x60, WriteFpdmaQueued = 0x61;
    public const int Slots = 32;
    public const int CommandHeaderBytes = 32;
    public const int PrdtOffset = 0x80;

    private readonly Simulator _sim;
    private readonly PhysicalMemory _memory;
    private readonly DiskImage _disk;
    private readonly int _accessCycles;
    private readonly Tick _commandFetch;
    private readonly CallbackEvent[] _done = new CallbackEvent[Slots];
    private readonly CallbackEvent _fetch;
    private readonly Counter _commands;
    private readonly Counter _sectorsRead;
    private readonly Counter _sectorsWritten;
    private readonly Counter _accesses;
    private readonly InterruptLine _line;
    private readonly Counter _errors;
    private uint _ghc, _is, _pxIs, _pxIe, _pxCmd, _sact, _ci, _fetched;
    private ulong _clb, _fb;

    public AhciDisk(Simulator sim, string name, PhysicalMemory memory, DiskImage disk, int accessCycles, Tick commandFetch, Action raiseInterrupt, Action lowerInterrupt)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(disk);
        _sim = sim;
        Name = name;
        _memory = memory;
        _disk = disk;
        _accessCycles = accessCycles;
        _commandFetch = commandFetch;
        for (int slot = 0; slot < Slots; slot++)
        {
            int s = slot;
            _done[slot] = new CallbackEvent($"{name}.slot{slot}", () => Done(s), EventPriority.DeviceUpdate);
        }
        _fetch = new CallbackEvent(name + ".fetch", FetchCommands, EventPriority.DeviceUpdate);
        StatGroup stats = sim.Stats.Group(name);
        _commands = stats.Counter("commands", "count", "queued read and write commands");
        _sectorsRead = stats.Counter("sectors_read", "sectors", "sectors read by the host");
        _sectorsWritten = stats.Counter("sectors_written", "sectors", "sectors written by the host");
        _accesses = stats.Counter("accesses", "count", "register accesses");
        _line = new InterruptLine(raiseInterrupt, lowerInterrupt, stats.Counter("interrupts", "count", "times the interrupt line was raised"));
        _errors = stats.Counter("errors", "count", "malformed commands refused");
    }

    public string Name { get; }

    /// <summary>The disk behind the adapter: its sectors on a medium's queue.</summary>
    public DiskImage Disk => _disk;

    /// <summary>Where a monitor's software model of the adapter records what an access does (null for a real adapter).</summary>
    public EmulationWork? Emulation { get; set; }

    /// <summary>
    /// The user-space model's host thread, under a KVM-like hypervisor (null for a real adapter
    /// and for a model inside the monitor): a command's completion reaches the guest only when
    /// the thread has taken the host I/O's completion and written the Set Device Bits FIS, and the
    /// interrupt is raised through KVM from user space.
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

    /// <summary>Slots whose commands are outstanding (PxSACT).</summary>
    public uint ActiveSlots => _sact;

    public (ulong Value, int Cycles) Read(ulong offset)
    {
        _accesses.Increment();
        ulong value = offset switch
        {
            Cap => (1u << 31) | (1u << 30) | ((uint)(Slots - 1) << 8), // 64-bit addressing, NCQ, 32 slots, one port
            Ghc => _ghc,
            Is => _is,
            Pi => 1,
            Vs => 0x0001_0301, // AHCI 1.3.1
            PxClb => _clb,
            PxFb => _fb,
            PxIs => _pxIs,
            PxIe => _pxIe,
            PxCmd => _pxCmd | (_pxCmd & PxCmdStart) << 15 | (_pxCmd & PxCmdFisReceive) << 10, // CR and FR follow ST and FRE
            PxTfd => (_pxIs & PxIsTaskFileError) != 0 ? 0x51u : 0x50u, // DRDY|DSC, ERR after a refused command
            PxSsts => 0x123, // device present, Gen1, active
            PxSact => _sact,
            PxCi => _ci,
            _ => 0,
        };
        return (value, _accessCycles);
    }

    public int Write(ulong offset, ulong value)
    {
        _accesses.Increment();
        uint v = (uint)value;
        switch (offset)
        {
            case Ghc:
                _ghc = v & (GhcAhciEnable | GhcInterruptEnable);
                break;
            case Is:
                _is &= ~v; // write 1 to clear; a port still pending sets its bit again
                if ((_pxIs & _pxIe) != 0)
                {
                    _is |= 1;
                }
                break;
            case PxClb:
                _clb = value;
                break;
            case PxFb:
                _fb = value;
                break;
            case PxIs:
                _pxIs &= ~v;
                break;
            case PxIe:
                _pxIe = v;
                break;
            case PxCmd:
                _pxCmd = v & (PxCmdStart | PxCmdFisReceive);
                break;
            case PxSact:
                _sact |= v; // software sets the bits of the commands it is about to issue
                break;
            case PxCi:
                Issue(v & ~_ci);
                break;
        }
        UpdateLine();
        return _accessCycles;
    }

    private void Issue(uint slots)
    {
        if (slots == 0)
        {
            return;
        }
        if ((_pxCmd & PxCmdStart) == 0)
        {
            throw new InvalidOperationException($"{Name}: a command was issued with PxCMD.ST clear; the driver must start the port first.");
        }
        _ci |= slots;
        RecordIssue(slots);
        if (!_fetch.Scheduled)
        {
            _sim.ScheduleIn(_fetch, _commandFetch);
        }
    }

    /// <summary>
    /// A software model's work for the commands of a PxCI write, which it takes at once (QEMU's
    /// check_cmd and handle_cmd for each slot): the 32-byte command header read, the command
    /// table's FIS and first PRDT entry read (the command list walk and the FIS copy), and the
    /// request submitted to the backend (one real I/O each). The adapter's own fetch delay still
    /// times the commands.
    /// </summary>
    private void RecordIssue(uint slots)
    {
        if (Emulation is not { } work)
        {
            return;
        }
        for (int slot = 0; slot < Slots; slot++)
        {
            if ((slots & (1u << slot)) == 0)
            {
                continue;
            }
            ulong header = HeaderOf(slot);
            ulong table = _memory.ReadUInt64(header + 8);
            work.Step(EmulationStep.CommandIssue);
            work.Read(header, CommandHeaderBytes);
            work.Read(table, 20); // the register FIS: five dwords
            work.Read(table + PrdtOffset, 16); // the PRDT entry
            work.RealIo();
        }
    }

    /// <summary>For a device assigned to a guest: the time its DMA to an address takes through the IOMMU (null for a device of the host).</summary>
    public Func<ulong, Tick>? DmaTranslation { get; set; }

    /// <summary>The adapter reads each issued command from memory and queues it on the medium.</summary>
    private void FetchCommands()
    {
        uint slots = _ci & ~_fetched;
        for (int slot = 0; slot < Slots; slot++)
        {
            if ((slots & (1u << slot)) == 0)
            {
                continue;
            }
            _ci &= ~(1u << slot); // accepted by the device: the slot's PxCI bit clears, PxSACT stays until completion
            if (!TryDecode(slot, out ulong lba, out int count, out bool write))
            {
                _errors.Increment();
                _sact &= ~(1u << slot);
                _pxIs |= PxIsTaskFileError;
                Signal();
                continue;
            }
            _fetched |= 1u << slot;
            _commands.Increment();
            _sim.Schedule(_done[slot], _disk.Submit(lba, count, write, after: DmaTime(slot)));
            (write ? _sectorsWritten : _sectorsRead).Add(count);
        }
    }

    /// <summary>Through an IOMMU, the DMA of a command: its header, its table and its data buffer each translated.</summary>
    private Tick DmaTime(int slot)
    {
        if (DmaTranslation is not { } translate)
        {
            return default;
        }
        ulong header = HeaderOf(slot);
        ulong table = _memory.ReadUInt64(header + 8);
        ulong buffer = _memory.ReadUInt64(table + PrdtOffset);
        return translate(header) + translate(table) + translate(buffer);
    }

    /// <summary>The command header of <paramref name="slot"/> in the command list.</summary>
    private ulong HeaderOf(int slot) => _clb + ((ulong)slot * CommandHeaderBytes);

    private bool TryDecode(int slot, out ulong lba, out int count, out bool write)
    {
        ulong header = HeaderOf(slot);
        ulong dw01 = _memory.ReadUInt64(header);
        ulong table = _memory.ReadUInt64(header + 8);
        ulong fis0 = _memory.ReadUInt64(table);
        ulong fis1 = _memory.ReadUInt64(table + 8);
        byte type = (byte)fis0, command = (byte)(fis0 >> 16);
        count = (int)(((fis0 >> 24) & 0xFF) | (((fis1 >> 24) & 0xFF) << 8)); // FPDMA: the sector count is in the features field
        lba = ((fis0 >> 32) & 0xFF_FFFF) | ((fis1 & 0xFF_FFFF) << 24);
        write = command == WriteFpdmaQueued;
        int tag = (int)((fis1 >> 35) & 0x1F); // count field bits 7:3
        bool headerWrite = (dw01 & (1u << 6)) != 0;
        int prdtLength = (int)((dw01 >> 16) & 0xFFFF);
        return type == FisHostToDevice && command is ReadFpdmaQueued or WriteFpdmaQueued && tag == slot && headerWrite == write &&
               prdtLength >= 1 && count > 0 && lba + (ulong)count <= _disk.Sectors;
    }

    /// <summary>A command's I/O is done: completed at once, or by the user-space model's thread once the host's completion wakes it.</summary>
    private void Done(int slot) => (Backend ?? HostCompletions).FromHost(() => Complete(slot));

    /// <summary>A slot completes: the Set Device Bits FIS clears its PxSACT bit (a software model writes the FIS into the received-FIS area, offset 0x58: AHCI 1.3.1, 4.2.1).</summary>
    private void Complete(int slot)
    {
        if (Emulation is { } work)
        {
            work.Step(EmulationStep.CommandComplete);
            work.Write(_fb + 0x58, 8);
        }
        _fetched &= ~(1u << slot);
        _sact &= ~(1u << slot); // the Set Device Bits FIS
        _pxIs |= PxIsSetDeviceBits;
        Signal();
    }

    private void Signal()
    {
        if ((_pxIs & _pxIe) != 0)
        {
            _is |= 1;
        }
        UpdateLine();
    }

    private void UpdateLine()
    {
        if (_line.Set((_ghc & GhcInterruptEnable) != 0 && _is != 0) && Backend is not null)
        {
            Emulation?.Irqfd(); // QEMU's pci_set_irq from user space, into KVM's interrupt routing
        }
    }
}
