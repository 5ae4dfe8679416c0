using Sim.Engine.Statistics;

namespace Sim.Models.Devices;

/// <summary>
/// The I/O APIC that routes device interrupt lines to local APICs, with the register interface of
/// the Intel 82093AA data sheet (290566): an index register IOREGSEL at offset 0x00 and a data
/// window IOWIN at 0x10; behind them ID (0x00), version (0x01: 24 entries) and the redirection
/// table (0x10 + 2n low, 0x11 + 2n high): vector, trigger mode (bit 15: level), remote IRR
/// (bit 14), mask (bit 16) and destination APIC ID (bits 63:56). A level-triggered line is not
/// delivered again until the local APIC's EOI for its vector clears remote IRR. Programming an
/// entry takes two register accesses (select, then write), which is what an emulated I/O APIC
/// turns into exits.
/// </summary>
/// <remarks>Model: physical destination mode with fixed delivery only; no polarity, no lowest-priority or logical destinations.</remarks>
public sealed class IoApic : IMmioDevice
{
    public const ulong DefaultBase = 0xFEC0_0000;
    public const ulong Size = 0x20;
    public const int Pins = 24;
    private const ulong Masked = 1UL << 16;
    private const ulong LevelTriggered = 1UL << 15;
    private const ulong RemoteIrr = 1UL << 14;

    private readonly Func<uint, LocalApic?> _apicById;
    private readonly int _accessCycles;
    private readonly ulong[] _redirection = new ulong[Pins];
    private readonly bool[] _asserted = new bool[Pins];
    private readonly Counter _delivered;
    private readonly Counter _accesses;
    private uint _select;

    public IoApic(StatGroup stats, string name, int accessCycles, Func<uint, LocalApic?> apicById)
    {
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(apicById);
        Name = name;
        _accessCycles = accessCycles;
        _apicById = apicById;
        Array.Fill(_redirection, Masked); // every line masked at reset
        _delivered = stats.Counter("delivered", "count", "interrupts sent to a local APIC");
        _accesses = stats.Counter("accesses", "count", "register accesses");
    }

    public string Name { get; }

    public (ulong Value, int Cycles) Read(ulong offset)
    {
        _accesses.Increment();
        ulong value = offset switch
        {
            0x00 => _select,
            0x10 => Register(_select),
            _ => 0,
        };
        return (value, _accessCycles);
    }

    public int Write(ulong offset, ulong value)
    {
        _accesses.Increment();
        if (offset == 0x00)
        {
            _select = (uint)value & 0xFF;
        }
        else if (offset == 0x10 && _select >= 0x10 && _select < 0x10 + (2 * Pins))
        {
            int pin = (int)(_select - 0x10) / 2;
            bool high = (_select & 1) != 0;
            ulong keep = high ? 0xFFFF_FFFFUL : 0xFFFF_FFFF_0000_0000UL;
            ulong shifted = high ? (value & 0xFFFF_FFFF) << 32 : value & 0xFFFF_FFFF & ~RemoteIrr; // remote IRR is read-only
            _redirection[pin] = (_redirection[pin] & keep) | shifted | (_redirection[pin] & RemoteIrr);
            Deliver(pin); // unmasking a line that is still asserted delivers it
        }
        return _accessCycles;
    }

    /// <summary>A device raises line <paramref name="pin"/> (an edge, or the start of a level).</summary>
    public void Assert(int pin)
    {
        CheckPin(pin);
        _asserted[pin] = true;
        Deliver(pin);
        if ((_redirection[pin] & LevelTriggered) == 0)
        {
            _asserted[pin] = false; // an edge is gone once seen
        }
    }

    /// <summary>The vector line <paramref name="pin"/> is routed to (bits 7:0 of its redirection entry).</summary>
    public int VectorOf(int pin)
    {
        CheckPin(pin);
        return (int)(_redirection[pin] & 0xFF);
    }

    /// <summary>A device lowers a level-triggered line (its interrupt was acknowledged at the device).</summary>
    public void Deassert(int pin)
    {
        CheckPin(pin);
        _asserted[pin] = false;
    }

    /// <summary>The EOI broadcast of a local APIC: clears remote IRR of the level-triggered entries with this vector, and re-delivers a line still asserted.</summary>
    public void EndOfInterrupt(int vector)
    {
        for (int pin = 0; pin < Pins; pin++)
        {
            if ((int)(_redirection[pin] & 0xFF) == vector && (_redirection[pin] & RemoteIrr) != 0)
            {
                _redirection[pin] &= ~RemoteIrr;
                Deliver(pin);
            }
        }
    }

    private void Deliver(int pin)
    {
        ulong entry = _redirection[pin];
        if (!_asserted[pin] || (entry & Masked) != 0 || (entry & RemoteIrr) != 0)
        {
            return;
        }
        if (_apicById((uint)(entry >> 56)) is not { } apic)
        {
            return; // no such destination: the message is lost, as on hardware
        }
        if ((entry & LevelTriggered) != 0)
        {
            _redirection[pin] |= RemoteIrr;
        }
        _delivered.Increment();
        apic.Accept((int)(entry & 0xFF));
    }

    private ulong Register(uint index) => index switch
    {
        0x00 => 0,
        0x01 => 0x0017_0011, // 24 entries, version 0x11
        >= 0x10 and < 0x10 + (2 * Pins) => (index & 1) == 0
            ? _redirection[(index - 0x10) / 2] & 0xFFFF_FFFF
            : _redirection[(index - 0x10) / 2] >> 32,
        _ => 0,
    };

    private static void CheckPin(int pin)
    {
        if (pin is < 0 or >= Pins)
        {
            throw new ArgumentOutOfRangeException(nameof(pin), pin, $"The I/O APIC has pins 0-{Pins - 1}.");
        }
    }
}
