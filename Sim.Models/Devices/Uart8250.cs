using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// A serial port with the register interface of the 8250/16450 UART (National Semiconductor
/// PC16550D data sheet, register summary; FIFO mode not modelled): THR/RBR at base+0, IER +1,
/// IIR/FCR +2, LCR +3, MCR +4, LSR +5, MSR +6, SCR +7, divisor latch at +0/+1 when LCR.DLAB is set.
/// A driver sends a byte by reading LSR until THRE (bit 5) is set and writing THR: two accesses
/// or more per byte. A byte takes 10 bit times on the line (start, 8 data, stop) at 115200 baud
/// divided by the divisor; THRE is clear meanwhile, and a byte written then is lost (overrun).
/// With IER bit 1 set, the end of each byte raises the port's interrupt.
/// </summary>
public sealed class Uart8250 : IPortDevice
{
    private const ulong MaxBaud = 115_200;
    private const byte LsrThre = 0x20;
    private const byte LsrTemt = 0x40;

    private readonly Simulator _sim;
    private readonly ushort _base;
    private readonly int _accessCycles;
    private readonly Action? _raiseInterrupt;
    private readonly CallbackEvent _byteSent;
    private readonly System.Text.StringBuilder _output = new();
    private readonly Counter _bytes;
    private readonly Counter _overruns;
    private byte _ier, _lcr, _mcr, _scr;
    private ushort _divisor = 1;
    private byte _shifting;
    private bool _busy;

    public Uart8250(Simulator sim, string name, ushort basePort, int accessCycles, Action? raiseInterrupt)
    {
        ArgumentNullException.ThrowIfNull(sim);
        _sim = sim;
        Name = name;
        _base = basePort;
        _accessCycles = accessCycles;
        _raiseInterrupt = raiseInterrupt;
        _byteSent = new CallbackEvent(name + ".byte-sent", ByteSent, EventPriority.DeviceUpdate);
        StatGroup stats = sim.Stats.Group(name);
        _bytes = stats.Counter("bytes_sent", "bytes", "bytes put on the line");
        _overruns = stats.Counter("overruns", "bytes", "bytes written while the transmitter was busy, and lost");
    }

    public string Name { get; }

    /// <summary>Where a monitor's software model of the port records what an access does (null for a real port).</summary>
    public EmulationWork? Emulation { get; set; }

    /// <summary>What went out on the line.</summary>
    public string Output => _output.ToString();

    public Tick ByteTime => new((ulong)Math.Ceiling(10.0 * Tick.PicosecondsPerSecond * _divisor / MaxBaud));

    public (ulong Value, int Cycles) Read(ushort port)
    {
        bool dlab = (_lcr & 0x80) != 0;
        ulong value = (port - _base) switch
        {
            0 => dlab ? (ulong)(_divisor & 0xFF) : 0,                       // RBR: nothing is ever received
            1 => dlab ? (ulong)(_divisor >> 8) : _ier,
            2 => _busy || (_ier & 0x02) == 0 ? 0x01UL : 0x02UL,             // IIR: none pending, or THR empty
            3 => _lcr,
            4 => _mcr,
            5 => _busy ? 0UL : LsrThre | LsrTemt,
            6 => 0xB0,                                                       // MSR: DCD, DSR, CTS asserted
            _ => _scr,
        };
        return (value, _accessCycles);
    }

    public int Write(ushort port, ulong value)
    {
        byte b = (byte)value;
        bool dlab = (_lcr & 0x80) != 0;
        switch (port - _base)
        {
            case 0 when dlab:
                _divisor = (ushort)((_divisor & 0xFF00) | b);
                break;
            case 0:
                Transmit(b);
                break;
            case 1 when dlab:
                _divisor = (ushort)((_divisor & 0x00FF) | (b << 8));
                break;
            case 1:
                _ier = (byte)(b & 0x0F);
                break;
            case 3:
                _lcr = b;
                break;
            case 4:
                _mcr = b;
                break;
            case 7:
                _scr = b;
                break;
        }
        if (_divisor == 0)
        {
            _divisor = 1; // a zero divisor stops a real UART; the model keeps the fastest rate
        }
        return _accessCycles;
    }

    private void Transmit(byte b)
    {
        if (_busy)
        {
            _overruns.Increment();
            return;
        }
        _busy = true;
        Emulation?.RealIo(); // the byte written to the host's character device (QEMU's serial_xmit, qemu_chr_fe_write)
        _shifting = b;
        _sim.ScheduleIn(_byteSent, ByteTime);
    }

    private void ByteSent()
    {
        _busy = false;
        _bytes.Increment();
        _output.Append((char)_shifting);
        if ((_ier & 0x02) != 0)
        {
            _raiseInterrupt?.Invoke();
        }
    }
}
