using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// A core's local APIC, with the register interface of Intel SDM Vol. 3A chapter "Advanced
/// Programmable Interrupt Controller (APIC)", in xAPIC mode at 0xFEE00000: ID (0x20), version
/// (0x30), TPR (0x80), EOI (0xB0), spurious vector (0xF0), ISR (0x100-0x170), IRR (0x200-0x270),
/// the interrupt command register (ICR, 0x300 and 0x310), LVT timer (0x320), timer initial count
/// (0x380), current count (0x390) and divide configuration (0x3E0). A write to the ICR's low half
/// sends an inter-processor interrupt to the destination in its high half or to the shorthand's
/// set (self, all, all but self; Intel SDM Vol. 3A, "Issuing Interprocessor Interrupts"); the
/// platform carries it to the target APICs, which accept it after the delivery latency. The timer counts down at its input clock divided as configured, in
/// one-shot or periodic mode, and interrupts with the LVT vector unless masked. An accepted
/// interrupt sets its ISR bit; a write to EOI clears the highest one. A timer tick thus costs a
/// kernel at least one register access (the EOI write), which is what an emulated APIC turns
/// into an exit.
/// </summary>
/// <remarks>
/// Model: priority arbitration against the TPR and nested ISR priorities is not modelled (every
/// unmasked interrupt is delivered at once); IPIs in fixed delivery mode with physical destinations
/// only (INIT, start-up, NMI and lowest-priority messages and logical destinations are counted and
/// dropped); the delivery-status bit always reads idle; no TSC-deadline mode.
/// </remarks>
public sealed class LocalApic : IMmioDevice
{
    public const ulong DefaultBase = 0xFEE0_0000;
    public const ulong Size = 0x1000;

    /// <summary>The timer's initial-count register, whose write starts (or, with 0, stops) it.</summary>
    public const ulong TimerInitialCount = 0x380;

    private const uint LvtMasked = 1u << 16;
    private const uint LvtPeriodic = 1u << 17;
    private static readonly int[] DivideByCode = [2, 4, 8, 16, 32, 64, 128, 1];

    private readonly Simulator _sim;
    private readonly ClockDomain _timerClock;
    private readonly int _accessCycles;
    private readonly Action<int> _deliver;
    private readonly CallbackEvent _expiry;
    private readonly ulong[] _isr = new ulong[4];
    private readonly Counter _timerInterrupts;
    private readonly Counter _eois;
    private readonly Counter _ipis;
    private readonly Counter _ipisReceived;
    private readonly CallbackEvent _ipiArrival;
    private readonly Queue<(int Vector, Tick At)> _ipisInFlight = new(); // in arrival order: every IPI takes the same delivery time
    private uint _icrLow;
    private uint _icrHigh;
    private readonly Counter _accesses;
    private uint _tpr;
    private uint _svr = 0xFF;
    private uint _lvtTimer = LvtMasked;
    private uint _initialCount;
    private uint _divideConfig;
    private ulong _countStartCycle; // timer-clock cycle at which the current count was last loaded

    /// <param name="deliver">Delivers an interrupt vector to the core (Core.RaiseInterrupt).</param>
    public LocalApic(Simulator sim, string name, uint apicId, ulong timerHz, int accessCycles, Action<int> deliver)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(deliver);
        _sim = sim;
        Name = name;
        Id = apicId;
        _timerClock = new ClockDomain(name + ".timer", timerHz);
        _accessCycles = accessCycles;
        _deliver = deliver;
        _expiry = new CallbackEvent(name + ".timer", Expire, EventPriority.Interrupt);
        StatGroup stats = sim.Stats.Group(name);
        _timerInterrupts = stats.Counter("timer_interrupts", "count", "timer interrupts delivered");
        _eois = stats.Counter("eois", "count", "end-of-interrupt writes");
        _ipis = stats.Counter("ipis_sent", "count", "inter-processor interrupts sent (interrupt command register writes)");
        _ipisReceived = stats.Counter("ipis_received", "count", "inter-processor interrupts accepted");
        _ipiArrival = new CallbackEvent(name + ".ipi", IpiArrives, EventPriority.Interrupt);
        _accesses = stats.Counter("accesses", "count", "register accesses");
    }

    public string Name { get; }

    /// <summary>The timer's input clock, in Hz (the bus or crystal clock the current count decrements at, divide by 1).</summary>
    public ulong TimerHz => _timerClock.FrequencyHz;

    public uint Id { get; }

    /// <summary>Called with each EOI's vector: the I/O APIC clears its level-triggered entries' remote IRR on it (the EOI broadcast).</summary>
    public Action<int>? EoiBroadcast { get; set; }

    /// <summary>Called with the ICR's low and high halves when software writes the low half: the platform carries the IPI to its destinations.</summary>
    public Action<LocalApic, uint, uint>? InterprocessorInterrupt { get; set; }

    /// <summary>An IPI for this APIC, sent now, arrives at <paramref name="at"/> and is accepted then.</summary>
    public void Receive(int vector, Tick at)
    {
        if (_ipisInFlight.Count > 0 && at < _ipisInFlight.Peek().At)
        {
            throw new ArgumentException("IPIs arrive in the order they were sent: every one takes the same delivery time.", nameof(at));
        }
        _ipisInFlight.Enqueue((vector, at));
        if (!_ipiArrival.Scheduled)
        {
            _sim.Schedule(_ipiArrival, at);
        }
    }

    private void IpiArrives()
    {
        while (_ipisInFlight.TryPeek(out (int Vector, Tick At) ipi) && ipi.At <= _sim.Now)
        {
            _ipisInFlight.Dequeue();
            _ipisReceived.Increment();
            Accept(ipi.Vector);
        }
        if (_ipisInFlight.TryPeek(out (int Vector, Tick At) next))
        {
            _sim.Schedule(_ipiArrival, next.At);
        }
    }

    /// <summary>Accepts an interrupt from outside (the I/O APIC): sets its in-service bit and delivers it to the core.</summary>
    public void Accept(int vector)
    {
        if (vector is < 16 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(vector), vector, "Vectors 0-15 are reserved; an APIC delivers 16-255.");
        }
        _isr[vector >> 6] |= 1UL << (vector & 63);
        _deliver(vector);
    }

    /// <summary>
    /// Programs the timer as software does at boot: divide by 1 (divide configuration 0xB), the
    /// timer LVT periodic on <paramref name="vector"/>, then the initial count, which starts it
    /// (Intel SDM Vol. 3A, 11.5.4). Three register writes, counted as accesses but not timed.
    /// </summary>
    public void StartPeriodicTimer(int vector, uint initialCount)
    {
        Write(0x3E0, 0xB);
        Write(0x320, (uint)vector | LvtPeriodic);
        Write(0x380, initialCount);
    }

    /// <summary>When the timer next expires, or null when it is stopped.</summary>
    public Tick? TimerExpiry => _expiry.Scheduled ? _expiry.When : null;

    /// <summary>The timer's vector (its LVT entry's).</summary>
    public int TimerVector => (int)(_lvtTimer & 0xFF);

    /// <summary>Whether the in-service register has <paramref name="vector"/> set.</summary>
    public bool InService(int vector) => (_isr[vector >> 6] & (1UL << (vector & 63))) != 0;

    public (ulong Value, int Cycles) Read(ulong offset)
    {
        _accesses.Increment();
        ulong value = offset switch
        {
            0x20 => Id << 24,
            0x300 => _icrLow,
            0x310 => _icrHigh,
            0x30 => 0x0005_0014, // version 0x14, 6 LVT entries (as on Intel processors of the period)
            0x80 => _tpr,
            0xF0 => _svr,
            >= 0x100 and <= 0x170 when (offset & 0xF) == 0 => IsrWord((int)((offset - 0x100) >> 4)),
            0x320 => _lvtTimer,
            0x380 => _initialCount,
            0x390 => CurrentCount(),
            0x3E0 => _divideConfig,
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
            case 0x80:
                _tpr = v & 0xFF;
                break;
            case 0xB0:
                EndOfInterrupt();
                break;
            case 0xF0:
                _svr = v & 0x1FF;
                break;
            case 0x300:
                _icrLow = v & ~(1u << 12); // delivery status: idle, the message has gone
                _ipis.Increment();
                InterprocessorInterrupt?.Invoke(this, _icrLow, _icrHigh);
                break;
            case 0x310:
                _icrHigh = v & 0xFF00_0000;
                break;
            case 0x320:
                _lvtTimer = v & (0xFF | LvtMasked | LvtPeriodic);
                break;
            case 0x380:
                _initialCount = v;
                StartCount();
                break;
            case 0x3E0:
                _divideConfig = v & 0xB;
                break;
        }
        return _accessCycles;
    }

    private int Divisor => DivideByCode[(int)((_divideConfig & 0x3) | ((_divideConfig >> 1) & 0x4))];

    private ulong IsrWord(int index) => (_isr[index >> 1] >> ((index & 1) * 32)) & 0xFFFF_FFFF;

    private void StartCount()
    {
        _sim.Cancel(_expiry);
        if (_initialCount == 0)
        {
            return; // writing 0 stops the timer
        }
        _countStartCycle = _timerClock.CycleAtOrAfter(_sim.Now).Count;
        _sim.Schedule(_expiry, _timerClock.EdgeTick(new Cycles(_countStartCycle + ((ulong)_initialCount * (ulong)Divisor))));
    }

    private ulong CurrentCount()
    {
        if (!_expiry.Scheduled)
        {
            return 0;
        }
        ulong elapsed = (_timerClock.CyclesAt(_sim.Now).Count - _countStartCycle) / (ulong)Divisor;
        return _initialCount - Math.Min(elapsed, _initialCount);
    }

    private void Expire()
    {
        if ((_lvtTimer & LvtPeriodic) != 0)
        {
            _countStartCycle += (ulong)_initialCount * (ulong)Divisor;
            _sim.Schedule(_expiry, _timerClock.EdgeTick(new Cycles(_countStartCycle + ((ulong)_initialCount * (ulong)Divisor))));
        }
        if ((_lvtTimer & LvtMasked) != 0)
        {
            return;
        }
        _timerInterrupts.Increment();
        Accept((int)(_lvtTimer & 0xFF));
    }

    private void EndOfInterrupt()
    {
        _eois.Increment();
        for (int word = 3; word >= 0; word--)
        {
            if (_isr[word] != 0)
            {
                int bit = 63 - System.Numerics.BitOperations.LeadingZeroCount(_isr[word]);
                _isr[word] &= ~(1UL << bit);
                EoiBroadcast?.Invoke((word * 64) + bit);
                return;
            }
        }
    }
}
