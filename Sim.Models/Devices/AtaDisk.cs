using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// A disk on the primary ATA channel in PIO mode, with the task-file registers of the ATA/ATAPI
/// standard (ANSI INCITS 397, ATA/ATAPI-7) at ports 0x1F0-0x1F7: data (16 bits), error/features,
/// sector count, LBA low/mid/high, device (LBA bit 6, LBA bits 27:24), status/command; the
/// alternate status register at 0x3F6 reads the status without acknowledging. READ SECTORS
/// (0x20) and WRITE SECTORS (0x30) move 512-byte sectors through the data port, 256 words each,
/// with an interrupt per sector read and at the end of a write; reading the status register
/// lowers the interrupt line. A sector thus costs a driver 257 port accesses (one status read,
/// 256 data words), plus six register writes per command: the access pattern that made emulated
/// IDE the textbook case of emulation overhead.
/// </summary>
/// <remarks>Model: 28-bit LBA, one drive, no DMA, no IDENTIFY data beyond the status; the medium reads all sectors of a command before the first is offered.</remarks>
public sealed class AtaDisk : IPortDevice
{
    public const ushort CommandBase = 0x1F0;
    public const ushort ControlPort = 0x3F6;
    public const byte ReadSectors = 0x20;
    public const byte WriteSectors = 0x30;
    public const byte StatusBusy = 0x80, StatusReady = 0x40, StatusDataRequest = 0x08, StatusError = 0x01;
    private const int WordsPerSector = 256;

    private readonly Simulator _sim;
    private readonly DiskImage _disk;
    private readonly int _accessCycles;
    private readonly Action _raise;
    private readonly Action _lower;
    private readonly CallbackEvent _mediumDone;
    private readonly Counter _commands;
    private readonly Counter _sectorsRead;
    private readonly Counter _sectorsWritten;
    private readonly Counter _accesses;
    private byte _count, _lbaLow, _lbaMid, _lbaHigh, _device, _status = StatusReady, _error;
    private byte _command;
    private int _sectorsLeft;
    private int _wordsLeft;

    public AtaDisk(Simulator sim, string name, DiskImage disk, int accessCycles, Action raiseInterrupt, Action lowerInterrupt)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(disk);
        _sim = sim;
        Name = name;
        _disk = disk;
        _accessCycles = accessCycles;
        _raise = raiseInterrupt;
        _lower = lowerInterrupt;
        _mediumDone = new CallbackEvent(name + ".medium", MediumDone, EventPriority.DeviceUpdate);
        StatGroup stats = sim.Stats.Group(name);
        _commands = stats.Counter("commands", "count", "read and write commands");
        _sectorsRead = stats.Counter("sectors_read", "sectors", "sectors read by the host");
        _sectorsWritten = stats.Counter("sectors_written", "sectors", "sectors written by the host");
        _accesses = stats.Counter("accesses", "count", "register accesses");
    }

    public string Name { get; }

    /// <summary>Where a monitor's software model of the disk records what an access does (null for a real disk).</summary>
    public EmulationWork? Emulation { get; set; }

    public (ulong Value, int Cycles) Read(ushort port)
    {
        _accesses.Increment();
        ulong value = port switch
        {
            CommandBase => DataRead(),
            CommandBase + 1 => _error,
            CommandBase + 2 => _count,
            CommandBase + 3 => _lbaLow,
            CommandBase + 4 => _lbaMid,
            CommandBase + 5 => _lbaHigh,
            CommandBase + 6 => _device,
            CommandBase + 7 => AcknowledgeAndStatus(),
            ControlPort => _status,
            _ => 0xFF,
        };
        return (value, _accessCycles);
    }

    public int Write(ushort port, ulong value)
    {
        _accesses.Increment();
        byte b = (byte)value;
        switch (port)
        {
            case CommandBase:
                DataWrite();
                break;
            case CommandBase + 2:
                _count = b;
                break;
            case CommandBase + 3:
                _lbaLow = b;
                break;
            case CommandBase + 4:
                _lbaMid = b;
                break;
            case CommandBase + 5:
                _lbaHigh = b;
                break;
            case CommandBase + 6:
                _device = b;
                break;
            case CommandBase + 7:
                Command(b);
                break;
        }
        return _accessCycles;
    }

    private ulong Lba => ((ulong)(_device & 0x0F) << 24) | ((ulong)_lbaHigh << 16) | ((ulong)_lbaMid << 8) | _lbaLow;

    private int SectorCount => _count == 0 ? 256 : _count; // 0 means 256 in the ATA standard

    private void Command(byte command)
    {
        if ((_status & StatusBusy) != 0 || command is not (ReadSectors or WriteSectors) || Lba + (ulong)SectorCount > _disk.Sectors)
        {
            _status = StatusReady | StatusError;
            _error = 0x04; // ABRT
            _raise();
            return;
        }
        _commands.Increment();
        Emulation?.Step(EmulationStep.AtaCommand);
        _command = command;
        _error = 0;
        _sectorsLeft = SectorCount;
        if (command == ReadSectors)
        {
            _status = StatusBusy;
            Emulation?.RealIo(); // the whole transfer read from the image at the command (QEMU's ide_sector_read); the data port's reads then come from the model's buffer
            _sim.Schedule(_mediumDone, _disk.Submit(Lba, SectorCount, write: false));
        }
        else
        {
            _status = StatusReady | StatusDataRequest; // the host writes the first sector at once
            _wordsLeft = WordsPerSector;
        }
    }

    private void MediumDone()
    {
        if (_command == ReadSectors)
        {
            OfferSector();
        }
        else
        {
            _status = StatusReady; // the write has reached the medium
            _raise();
        }
    }

    private void OfferSector()
    {
        _status = StatusReady | StatusDataRequest;
        _wordsLeft = WordsPerSector;
        _raise();
    }

    private ulong DataRead()
    {
        if (_command != ReadSectors || (_status & StatusDataRequest) == 0)
        {
            return 0xFFFF;
        }
        if (--_wordsLeft == 0)
        {
            _sectorsRead.Increment();
            if (--_sectorsLeft > 0)
            {
                OfferSector();
            }
            else
            {
                _status = StatusReady;
            }
        }
        return 0;
    }

    private void DataWrite()
    {
        if (_command != WriteSectors || (_status & StatusDataRequest) == 0)
        {
            return;
        }
        if (--_wordsLeft == 0)
        {
            _sectorsWritten.Increment();
            if (--_sectorsLeft > 0)
            {
                _wordsLeft = WordsPerSector;
            }
            else
            {
                _status = StatusBusy;
                Emulation?.RealIo(); // the buffered sectors written to the image at the last word
                _sim.Schedule(_mediumDone, _disk.Submit(Lba, SectorCount, write: true));
            }
        }
    }

    private ulong AcknowledgeAndStatus()
    {
        _lower();
        return _status;
    }
}
