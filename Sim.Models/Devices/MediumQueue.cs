using Sim.Engine;
using Sim.Engine.Statistics;
using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// A storage medium with its queue: the requests of every controller that reaches it (a physical
/// machine's one adapter, or under a hypervisor the host's disk that holds every virtual machine's
/// image) start on it in the order they come, each when the medium can take another
/// (<see cref="MediumAccess.Occupancy"/>), and end their latency after they start. So guests that
/// share the host's disk queue behind each other here, and the queue's statistics say by how much:
/// each request's wait before the medium took it, the medium's busy time, the requests in the
/// device (its depth) and their time there.
/// </summary>
/// <remarks>
/// The mean depth over a span is the requests' time in the device divided by the span (Little's
/// law); the largest depth is seen as a request arrives, so both are exact without an event at
/// each completion. Requests reach the medium in submission order (no elevator or NCQ reordering).
/// </remarks>
public sealed class MediumQueue
{
    private readonly Simulator _sim;
    private readonly PriorityQueue<Tick, Tick> _ends = new(); // the completion times of the requests in the device
    private readonly Counter _requests, _busyNs, _residenceNs;
    private readonly Histogram _wait;
    private Tick _free;
    private int _deepest;

    /// <param name="stats">The queue's statistics group: the medium's name with <c>.medium</c>, or the host's shared disk's.</param>
    public MediumQueue(Simulator sim, IStorageMedium medium, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(medium);
        ArgumentNullException.ThrowIfNull(stats);
        (_sim, Medium) = (sim, medium);
        _requests = stats.Counter("requests", "count", "requests the medium took");
        _wait = stats.Histogram("wait", "ns", "each request's time queued before the medium could start it (behind the others it was still taking)");
        _busyNs = stats.Counter("busy_ns", "ns", "time the medium was taking requests (each one's occupancy: its share of the medium's random-access rate, or its whole access for a disk that takes one at a time)");
        _residenceNs = stats.Counter("residence_ns", "ns", "the requests' time in the device, from submission to completion; over the run's time it is the mean queue depth");
        stats.Probe("depth_max", "count", "the most requests in the device at once", () => _deepest);
    }

    public IStorageMedium Medium { get; }

    /// <summary>
    /// Submits a read or write of <paramref name="count"/> sectors from <paramref name="lba"/> now;
    /// returns when it completes, <paramref name="after"/> later than the medium's latency (the
    /// adapter's own part, such as its DMA's translation).
    /// </summary>
    public Tick Submit(ulong lba, int count, bool write, Tick after = default)
    {
        Tick now = _sim.Now;
        while (_ends.TryPeek(out Tick end, out _) && end <= now)
        {
            _ends.Dequeue();
        }
        MediumAccess access = Medium.Access(lba, count, write);
        Tick start = Tick.Max(now, _free);
        _free = start + access.Occupancy;
        Tick done = start + access.Latency + after;
        _ends.Enqueue(done, done);
        _deepest = Math.Max(_deepest, _ends.Count);
        _requests.Increment();
        _wait.Record((long)((start - now).Picoseconds / 1000));
        _busyNs.Add((long)(access.Occupancy.Picoseconds / 1000));
        _residenceNs.Add((long)((done - now).Picoseconds / 1000));
        return done;
    }
}

/// <summary>
/// A disk as its controller sees it: <paramref name="Sectors"/> sectors from
/// <paramref name="FirstSector"/> of a medium's queue (a virtual machine's image file on the host's
/// disk, one after another, or a physical machine's whole medium).
/// </summary>
public sealed record DiskImage(MediumQueue Queue, ulong FirstSector, ulong Sectors)
{
    /// <summary>A physical machine's disk: the whole of <paramref name="medium"/>, with a queue of its own.</summary>
    public static DiskImage Whole(Simulator sim, IStorageMedium medium, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(medium);
        return new DiskImage(new MediumQueue(sim, medium, stats), 0, medium.Sectors);
    }

    public IStorageMedium Medium => Queue.Medium;

    /// <inheritdoc cref="MediumQueue.Submit"/>
    public Tick Submit(ulong lba, int count, bool write, Tick after = default) => Queue.Submit(FirstSector + lba, count, write, after);
}
