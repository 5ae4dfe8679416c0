using Sim.Engine.Time;

namespace Sim.Engine.Events;

/// <summary>
/// Something that will happen at a tick. As in gem5, an event is an object that belongs to its
/// component and is scheduled, cancelled and rescheduled again and again: nothing is allocated
/// per occurrence. An event is scheduled at most once at a time.
/// </summary>
public abstract class Event
{
    // The queue's ordering key of this event's live entry (priority and sequence number), or 0
    // when the event is not scheduled. A queue entry whose key differs is stale (cancelled).
    internal ulong LiveKey;
    internal ulong WhenPicoseconds;

    protected Event(int priority = EventPriority.Default)
    {
        if (priority is < EventPriority.Minimum or > EventPriority.Maximum)
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority,
                $"An event priority must lie in [{EventPriority.Minimum}, {EventPriority.Maximum}].");
        }
        Priority = priority;
    }

    public int Priority { get; }

    public bool Scheduled => LiveKey != 0;

    /// <summary>When the event is due; meaningful only while <see cref="Scheduled"/>.</summary>
    public Tick When => new(WhenPicoseconds);

    /// <summary>A short name for traces and errors.</summary>
    public virtual string Name => GetType().Name;

    /// <summary>Does what the event models. Runs with the simulator's clock at <see cref="When"/>.</summary>
    protected internal abstract void Process();
}
