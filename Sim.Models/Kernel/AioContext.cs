using Sim.Engine.Time;

namespace Sim.Models.Kernel;

/// <summary>
/// A process's asynchronous I/O context (fs/aio.c's kioctx): its ring of completion events in
/// pages of its own (struct aio_ring's 32-byte header, then 32-byte io_events), the requests in
/// flight, the completed ones not yet read, and the process waiting in io_getevents for some.
/// The model keeps one context a process (fio's libaio engine makes one per job).
/// </summary>
internal sealed class AioContext(IReadOnlyList<ulong> ringPages, int capacity)
{
    public const int EventBytes = 32;

    private const int EventsPerPage = Memory.PhysicalMemory.FrameBytes / EventBytes;

    private readonly Queue<(long Slot, Tick Submitted)> _completed = new();
    private long _tail;

    /// <summary>The ring's pages, the header at the start of the first.</summary>
    public IReadOnlyList<ulong> RingPages { get; } = ringPages;

    /// <summary>The most requests in flight and completed but not read at once (io_setup's nr_events): io_submit refuses more with EAGAIN.</summary>
    public int Capacity { get; } = capacity;

    public int InFlight { get; set; }

    public int Unread => _completed.Count;

    /// <summary>The process asleep in io_getevents and the fewest events it waits for, or null.</summary>
    public (Process Process, int Min, int Max)? Waiter { get; set; }

    /// <summary>Whether the process has exited: a request that ends after it has nobody to tell.</summary>
    public bool Closed { get; set; }

    /// <summary>aio_complete's store: the event written at the tail (its physical address returned) and the tail advanced.</summary>
    public ulong Push(Tick submitted)
    {
        long slot = _tail++;
        _completed.Enqueue((slot, submitted));
        InFlight--;
        return AddressOf(slot);
    }

    /// <summary>aio_read_events_ring's read of the event at the head: its address and when its request was submitted.</summary>
    public (ulong Address, Tick Submitted) Pop()
    {
        (long slot, Tick submitted) = _completed.Dequeue();
        return (AddressOf(slot), submitted);
    }

    /// <summary>Physical address of ring slot <paramref name="slot"/> (counted since the start; the ring wraps at its capacity), after the header's 32 bytes.</summary>
    private ulong AddressOf(long slot)
    {
        long position = (slot % Capacity) + 1;
        return RingPages[(int)(position / EventsPerPage)] + (ulong)(position % EventsPerPage * EventBytes);
    }

    /// <summary>Pages a ring of <paramref name="events"/> needs, with its header.</summary>
    public static int PagesFor(int events) => ((events + 1) * EventBytes + Memory.PhysicalMemory.FrameBytes - 1) / Memory.PhysicalMemory.FrameBytes;
}
