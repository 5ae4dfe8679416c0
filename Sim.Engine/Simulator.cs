using Sim.Engine.Events;
using Sim.Engine.Randomness;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Engine.Tracing;

namespace Sim.Engine;

/// <summary>
/// The discrete-event kernel of one simulation: the clock, the pending events, the random
/// streams, the statistics and the optional trace. Single-threaded and deterministic: the same
/// components, seed and calls give the same event order and the same results.
/// </summary>
public sealed class Simulator
{
    private readonly EventQueue _queue = new();
    private readonly EventQueue _cpus = new(); // events of priority CpuTick: the cores' slices, kept apart so that a core can see the next event that is not another core's
    private ulong _now;
    private ulong _eventsProcessed;
    private bool _stopRequested;
    private bool _running;

    public Simulator(ulong seed)
    {
        Seed = seed;
        Random = new RandomStreams(seed);
        Stats = new StatRegistry();
    }

    public ulong Seed { get; }

    internal EventQueue Queue => _queue;

    public Tick Now => new(_now);

    /// <summary>Events processed since the simulation began (64-bit: a long run exceeds 2^32).</summary>
    public ulong EventsProcessed => _eventsProcessed;

    /// <summary>Events scheduled and not yet run or cancelled.</summary>
    public int PendingEvents => _queue.Count + _cpus.Count;

    public RandomStreams Random { get; }

    public StatRegistry Stats { get; }

    /// <summary>The trace recorder, or null (the default) when tracing is off.</summary>
    public TraceRecorder? Trace { get; set; }

    /// <summary>Schedules <paramref name="ev"/> at <paramref name="when"/>, which may not lie in the past.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Schedule(Event ev, Tick when)
    {
        ArgumentNullException.ThrowIfNull(ev);
        if (when.Picoseconds < _now)
        {
            ThrowInThePast(ev, when);
        }
        QueueOf(ev).Push(ev, when.Picoseconds);
    }

    /// <summary>The queue an event waits in: CPU slices in their own, everything else in the other; the two are merged in (time, priority, order) when taken.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private EventQueue QueueOf(Event ev) => ev.Priority == EventPriority.CpuTick ? _cpus : _queue;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void ThrowInThePast(Event ev, Tick when) => throw new ArgumentOutOfRangeException(nameof(when), when,
        $"Event '{ev.Name}' cannot be scheduled at {when}, before the current time {Now}.");

    /// <summary>Schedules <paramref name="ev"/> <paramref name="delay"/> after now.</summary>
    public void ScheduleIn(Event ev, Tick delay) => Schedule(ev, Now + delay);

    /// <summary>Moves <paramref name="ev"/> to <paramref name="when"/>, scheduling it if it was not; it then runs after events already at that tick and priority.</summary>
    public void Reschedule(Event ev, Tick when)
    {
        ArgumentNullException.ThrowIfNull(ev);
        QueueOf(ev).Cancel(ev);
        Schedule(ev, when);
    }

    /// <summary>Cancels <paramref name="ev"/>; returns false when it was not scheduled.</summary>
    public bool Cancel(Event ev)
    {
        ArgumentNullException.ThrowIfNull(ev);
        return QueueOf(ev).Cancel(ev);
    }

    /// <summary>The tick of the next pending event, or null when none is pending.</summary>
    public Tick? NextEventTime => Min(_queue.PeekTime(), _cpus.PeekTime()) is { } t ? new Tick(t) : null;

    /// <summary>
    /// The time of the next pending event that is not a CPU's slice (a device, a timer, an
    /// interrupt), or null: a core that may run ahead of the other cores within a quantum must
    /// still stop at these.
    /// </summary>
    public Tick? NextNonCpuEventTime => _queue.PeekTime() is { } t ? new Tick(t) : null;

    private static ulong? Min(ulong? a, ulong? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    /// <summary>Asks the run loop to return after the event being processed.</summary>
    public void Stop() => _stopRequested = true;

    /// <summary>
    /// Runs events due at or before <paramref name="limit"/>, at most <paramref name="maxEvents"/>
    /// of them. On <see cref="RunOutcome.TimeLimit"/> the clock is left at <paramref name="limit"/>;
    /// otherwise at the last event processed.
    /// </summary>
    public RunOutcome Run(Tick limit, ulong maxEvents = ulong.MaxValue) => RunCore(limit, maxEvents, null);

    /// <summary>Runs until <paramref name="condition"/>, checked before each event, turns false.</summary>
    public RunOutcome RunWhile(Func<bool> condition, Tick limit)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return RunCore(limit, ulong.MaxValue, condition);
    }

    private RunOutcome RunCore(Tick limit, ulong maxEvents, Func<bool>? condition)
    {
        if (_running)
        {
            throw new InvalidOperationException("The simulator is already running; Run cannot be nested inside an event.");
        }
        if (limit.Picoseconds < _now)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"The run limit lies before the current time {Now}.");
        }
        Stats.Freeze();
        _running = true;
        _stopRequested = false;
        try
        {
            ulong stopAt = maxEvents > ulong.MaxValue - _eventsProcessed ? ulong.MaxValue : _eventsProcessed + maxEvents;
            while (true)
            {
                if (_eventsProcessed == stopAt)
                {
                    return RunOutcome.EventLimit;
                }
                if (condition is not null && !condition())
                {
                    return RunOutcome.ConditionFalse;
                }
                if (!NextQueue().TryTakeNext(limit.Picoseconds, out Event ev, out ulong when))
                {
                    if (PendingEvents == 0)
                    {
                        return RunOutcome.QueueEmpty;
                    }
                    _now = limit.Picoseconds;
                    return RunOutcome.TimeLimit;
                }
                _now = when;
                ev.Fire();
                _eventsProcessed++;
                if (_stopRequested)
                {
                    return RunOutcome.Stopped;
                }
            }
        }
        finally
        {
            _running = false;
        }
    }

    /// <summary>
    /// The queue whose first event comes first in (time, priority, order): CPU slices have one
    /// priority, so at equal times the other queue's first event goes first if its priority is
    /// lower (it runs before the CPUs) and after if it is higher; order within a queue is its own.
    /// </summary>
    private EventQueue NextQueue()
    {
        if (_cpus.Count == 0)
        {
            return _queue;
        }
        if (_queue.Count == 0)
        {
            return _cpus;
        }
        ulong other = _queue.PeekTime()!.Value, cpu = _cpus.PeekTime()!.Value;
        return other < cpu || (other == cpu && _queue.PeekPriority() < EventPriority.CpuTick) ? _queue : _cpus;
    }
}
