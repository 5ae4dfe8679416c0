using Sim.Engine.Time;

namespace Sim.Engine.Events;

/// <summary>
/// Something that will happen at a tick. As in gem5, an event is an object that belongs to its
/// component and is scheduled, cancelled and rescheduled again and again: nothing is allocated
/// per occurrence. An event is scheduled at most once at a time.
/// </summary>
public abstract class Event
{
    // The index of this event's entry in the queue, or -1 when it is not scheduled.
    internal int Slot = -1;
    internal ulong WhenPicoseconds;

    // The priority, placed in the top bits of the queue's ordering key (see EventQueue).
    internal readonly ulong KeyBase;

    protected Event(int priority = EventPriority.Default)
    {
        if (priority is < EventPriority.Minimum or > EventPriority.Maximum)
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority,
                $"An event priority must lie in [{EventPriority.Minimum}, {EventPriority.Maximum}].");
        }
        Priority = priority;
        KeyBase = (ulong)(priority - EventPriority.Minimum) << EventQueue.PriorityShift;
    }

    public int Priority { get; }

    public bool Scheduled => Slot >= 0;

    /// <summary>When the event is due; meaningful only while <see cref="Scheduled"/>.</summary>
    public Tick When => new(WhenPicoseconds);

    /// <summary>A short name for traces and errors.</summary>
    public virtual string Name => GetType().Name;

    /// <summary>Does what the event models. Runs with the simulator's clock at <see cref="When"/>.</summary>
    protected abstract void Process();

    internal void Fire() => Process();
}
