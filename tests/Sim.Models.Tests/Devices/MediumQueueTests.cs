using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Time;
using Sim.Models.Devices;

namespace Sim.Models.Tests.Devices;

/// <summary>
/// A medium's queue shared by several disks (docs/virtualization.md, "Shared host devices"):
/// requests start when the medium can take another, each one's wait is counted, and the mean
/// depth is the requests' time in the device over the span (Little's law).
/// </summary>
public class MediumQueueTests
{
    // A disk that takes one request at a time: 100 us each, its whole access its occupancy; it keeps the sectors asked for.
    private sealed class OneAtATime(ulong sectors) : IStorageMedium
    {
        public List<ulong> Asked { get; } = [];

        public string Description => "one at a time";

        public ulong Sectors => sectors;

        public MediumAccess Access(ulong lba, int count, bool write)
        {
            Asked.Add(lba);
            return new(Tick.FromMicroseconds(100), Tick.FromMicroseconds(100));
        }
    }

    private static double Stat(Simulator sim, string statistic) =>
        sim.Stats.Snapshot(sim.Now).Single(s => s.Path == "disk.medium" && s.Statistic == statistic).Value;

    [Fact]
    public void Two_images_requests_at_once_queue_behind_each_other_on_the_one_medium()
    {
        var sim = new Simulator(1);
        var queue = new MediumQueue(sim, new OneAtATime(2_000), sim.Stats.Group("disk.medium"));
        var first = new DiskImage(queue, 0, 1_000);
        var second = new DiskImage(queue, 1_000, 1_000);
        Tick a = first.Submit(10, 8, write: false);
        Tick b = second.Submit(10, 8, write: false);
        Assert.Equal(Tick.FromMicroseconds(100), a);
        Assert.Equal(Tick.FromMicroseconds(200), b); // behind the first image's request
        Assert.Equal(2, Stat(sim, "requests"));
        Assert.Equal(2, Stat(sim, "depth_max"));
        Assert.Equal(50_000, Stat(sim, "wait::mean")); // 0 and 100 us
        Assert.Equal(200_000, Stat(sim, "busy_ns"));
        Assert.Equal(300_000, Stat(sim, "residence_ns")); // 100 and 200 us in the device: over 200 us, a mean depth of 1.5
    }

    [Fact]
    public void A_request_after_the_others_completed_finds_the_medium_free_and_counts_no_depth_they_left()
    {
        var sim = new Simulator(1);
        var image = DiskImage.Whole(sim, new OneAtATime(1_000), sim.Stats.Group("disk.medium"));
        image.Submit(0, 8, write: false);
        image.Submit(8, 8, write: false);
        Tick later = Tick.Zero;
        sim.Schedule(new CallbackEvent("late", () => later = image.Submit(16, 8, write: true)), Tick.FromMicroseconds(500));
        sim.Run(Tick.FromMicroseconds(1_000));
        Assert.Equal(Tick.FromMicroseconds(600), later); // no wait: the two before it ended at 100 and 200 us
        Assert.Equal(2, Stat(sim, "depth_max"));
        Assert.Equal(100_000, Stat(sim, "wait::max")); // the second request's, behind the first
    }

    [Fact]
    public void An_image_s_sectors_lie_where_the_host_disk_places_it()
    {
        var sim = new Simulator(1);
        var medium = new OneAtATime(4_000);
        var queue = new MediumQueue(sim, medium, sim.Stats.Group("disk.medium"));
        new DiskImage(queue, 3_000, 1_000).Submit(5, 8, write: false);
        new DiskImage(queue, 0, 1_000).Submit(5, 8, write: false);
        Assert.Equal([3_005UL, 5UL], medium.Asked); // a rotating medium's seek depends on it
    }
}
