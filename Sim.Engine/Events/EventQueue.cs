namespace Sim.Engine.Events;

/// <summary>
/// The pending events, ordered by (tick, priority, insertion sequence): a total order, so the
/// run order never depends on how the heap happens to be shaped (.NET's PriorityQueue is not
/// stable for equal keys, which is why this is not one).
/// </summary>
/// <remarks>
/// Model of the data structure, chosen for the hold pattern of a simulator (pop one event,
/// its handler schedules about one):
/// <list type="bullet">
/// <item>A binary min-heap of 24-byte struct entries that carry their keys inline, so that
/// comparisons never dereference an event object.</item>
/// <item>Lazy cancellation: cancelling only clears the event's live key; the stale entry is
/// dropped when it reaches the top, or in one O(n) rebuild when stale entries outnumber live
/// ones. Cancel and reschedule therefore allocate nothing and cost O(1) plus a push.</item>
/// <item>Deferred removal of the top: while the top event is processed its entry stays in
/// place, and the first event scheduled by the handler overwrites it with one sift-down,
/// instead of a sift-down to remove it and a sift-up to insert the new one.</item>
/// </list>
/// The array grows by doubling and never shrinks, so a steady state allocates nothing.
/// </remarks>
public sealed class EventQueue
{
    private const int PriorityShift = 56;
    private const ulong MaxSequence = (1UL << PriorityShift) - 1;

    private Entry[] _heap = new Entry[64];
    private int _count;
    private int _stale;
    private ulong _nextSequence = 1;
    private bool _topDetached;

    /// <summary>Events scheduled and not yet run or cancelled.</summary>
    public int Count => _count - _stale - (_topDetached ? 1 : 0);

    internal void Push(Event ev, ulong whenPicoseconds)
    {
        if (ev.LiveKey != 0)
        {
            throw new InvalidOperationException(
                $"Event '{ev.Name}' is already scheduled (at {ev.WhenPicoseconds} ps); cancel or reschedule it instead.");
        }
        if (_nextSequence > MaxSequence)
        {
            throw new InvalidOperationException("The event sequence counter is exhausted (2^56 events).");
        }
        ulong key = ((ulong)(ev.Priority - EventPriority.Minimum) << PriorityShift) | _nextSequence++;
        ev.LiveKey = key;
        ev.WhenPicoseconds = whenPicoseconds;
        var entry = new Entry(whenPicoseconds, key, ev);
        if (_topDetached)
        {
            _topDetached = false;
            SiftDown(0, entry);
            return;
        }
        if (_count == _heap.Length)
        {
            Array.Resize(ref _heap, _heap.Length * 2);
        }
        SiftUp(_count++, entry);
    }

    internal bool Cancel(Event ev)
    {
        if (ev.LiveKey == 0)
        {
            return false;
        }
        ev.LiveKey = 0;
        _stale++;
        if (_stale > 64 && _stale > _count - _stale)
        {
            Compact();
        }
        return true;
    }

    /// <summary>
    /// Takes the next event due at or before <paramref name="limitPicoseconds"/> for processing:
    /// marks it unscheduled and leaves its entry on top until <see cref="FinishProcessing"/>.
    /// </summary>
    internal bool TryBeginNext(ulong limitPicoseconds, out Event ev, out ulong whenPicoseconds)
    {
        while (_count > 0)
        {
            ref Entry top = ref _heap[0];
            if (top.Key != top.Event.LiveKey)
            {
                _stale--;
                RemoveTop();
                continue;
            }
            if (top.Time > limitPicoseconds)
            {
                break;
            }
            ev = top.Event;
            whenPicoseconds = top.Time;
            ev.LiveKey = 0;
            _topDetached = true;
            return true;
        }
        ev = null!;
        whenPicoseconds = 0;
        return false;
    }

    /// <summary>Removes the processed event's entry unless a newly scheduled event took its place.</summary>
    internal void FinishProcessing()
    {
        if (_topDetached)
        {
            _topDetached = false;
            RemoveTop();
        }
    }

    /// <summary>The tick of the earliest live event, or null when none is pending.</summary>
    public ulong? PeekTime()
    {
        FinishProcessing(); // asked from inside a handler: the detached top must not be mistaken for the next event
        while (_count > 0 && _heap[0].Key != _heap[0].Event.LiveKey)
        {
            _stale--;
            RemoveTop();
        }
        return _count > 0 ? _heap[0].Time : null;
    }

    private void RemoveTop()
    {
        int last = --_count;
        Entry moved = _heap[last];
        _heap[last] = default; // drop the reference so a finished component can be collected
        if (last > 0)
        {
            SiftDown(0, moved);
        }
    }

    private void Compact()
    {
        int live = 0;
        for (int i = 0; i < _count; i++)
        {
            Entry e = _heap[i];
            if (e.Key == e.Event.LiveKey)
            {
                _heap[live++] = e;
            }
        }
        Array.Clear(_heap, live, _count - live);
        _count = live;
        _stale = 0;
        _topDetached = false; // a detached top is never live, so it was dropped above
        for (int i = (live >> 1) - 1; i >= 0; i--)
        {
            SiftDown(i, _heap[i]);
        }
    }

    private void SiftUp(int hole, Entry entry)
    {
        Entry[] heap = _heap;
        while (hole > 0)
        {
            int parent = (hole - 1) >> 1;
            if (!Precedes(entry, heap[parent]))
            {
                break;
            }
            heap[hole] = heap[parent];
            hole = parent;
        }
        heap[hole] = entry;
    }

    private void SiftDown(int hole, Entry entry)
    {
        Entry[] heap = _heap;
        int count = _count;
        while (true)
        {
            int child = (hole << 1) + 1;
            if (child >= count)
            {
                break;
            }
            if (child + 1 < count && Precedes(heap[child + 1], heap[child]))
            {
                child++;
            }
            if (!Precedes(heap[child], entry))
            {
                break;
            }
            heap[hole] = heap[child];
            hole = child;
        }
        heap[hole] = entry;
    }

    private static bool Precedes(in Entry a, in Entry b) =>
        a.Time < b.Time || (a.Time == b.Time && a.Key < b.Key);

    private readonly record struct Entry(ulong Time, ulong Key, Event Event);
}
