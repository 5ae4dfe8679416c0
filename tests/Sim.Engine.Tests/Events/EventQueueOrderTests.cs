using Sim.Engine.Events;
using Sim.Engine.Randomness;
using Sim.Engine.Time;

namespace Sim.Engine.Tests.Events;

public class EventQueueOrderTests
{
    private sealed class Recorder(List<int> log, int id, int priority) : Event(priority)
    {
        public int Id => id;

        protected override void Process() => log.Add(id);
    }

    [Fact]
    public void Same_tick_events_run_by_priority_then_insertion_order_through_queue_growth()
    {
        var sim = new Simulator(1);
        var log = new List<int>();
        // 5,000 events on one tick (far beyond the initial capacity and bucket count), with
        // priorities cycling over three levels, scheduled in a scrambled priority order.
        int[] priorities = [EventPriority.Default, EventPriority.Interrupt, EventPriority.CpuTick];
        var expected = new List<(int Priority, int Sequence, int Id)>();
        for (int i = 0; i < 5_000; i++)
        {
            int p = priorities[(i * 7) % 3];
            sim.Schedule(new Recorder(log, i, p), new Tick(1_000));
            expected.Add((p, i, i));
        }
        sim.Run(Tick.MaxValue);
        Assert.Equal(expected.OrderBy(e => e.Priority).ThenBy(e => e.Sequence).Select(e => e.Id), log);
    }

    [Fact]
    public void Random_schedule_cancel_and_reschedule_match_a_reference_order()
    {
        // A reference model: a sorted set of (time, priority, sequence). The queue must take
        // events in exactly its order, whatever mixture of time scales, ties, cancels and
        // reschedules the random script produces, through growth, shrinking and re-widthing.
        var random = new RandomStream(12345);
        var sim = new Simulator(2);
        var log = new List<int>();
        var events = new List<Recorder>();
        var reference = new SortedSet<(ulong Time, int Priority, long Seq, int Id)>();
        var live = new Dictionary<int, (ulong Time, int Priority, long Seq, int Id)>();
        long seq = 0;
        ulong now = 0;
        var expectedLog = new List<int>();
        for (int i = 0; i < 3_000; i++)
        {
            var ev = new Recorder(log, i, (int)random.NextInRange(-2, 2));
            events.Add(ev);
        }
        for (int round = 0; round < 40_000; round++)
        {
            // Alternate filling and draining phases so the calendar grows and shrinks repeatedly.
            int scheduleShare = (round / 4_000) % 2 == 0 ? 8 : 2;
            int action = (int)random.NextBelow(10);
            Recorder ev = events[(int)random.NextBelow((ulong)events.Count)];
            if (action < scheduleShare)
            {
                // Schedule or reschedule at a delay drawn from wildly different scales, with many exact ties.
                ulong scale = random.NextBelow(4) switch { 0 => 0, 1 => 10, 2 => 100_000, _ => 1_000_000_000 };
                ulong when = now + (scale == 0 ? 0 : random.NextBelow(scale));
                if (live.Remove(ev.Id, out var old))
                {
                    reference.Remove(old);
                }
                sim.Reschedule(ev, new Tick(when));
                var entry = (when, ev.Priority, seq++, ev.Id);
                reference.Add(entry);
                live[ev.Id] = entry;
            }
            else if (action < scheduleShare + 1)
            {
                bool wasLive = live.Remove(ev.Id, out var old);
                if (wasLive)
                {
                    reference.Remove(old);
                }
                Assert.Equal(wasLive, sim.Cancel(ev));
            }
            else
            {
                // Run a few events and compare with the reference.
                int n = (int)random.NextBelow(20);
                for (int k = 0; k < n && reference.Count > 0; k++)
                {
                    var first = reference.Min;
                    reference.Remove(first);
                    live.Remove(first.Id);
                    expectedLog.Add(first.Id);
                    now = first.Time;
                }
                sim.Run(Tick.MaxValue, (ulong)n); // takes as many as the reference took above
                Assert.Equal(expectedLog.Count, log.Count);
                Assert.Equal(now, sim.Now.Picoseconds);
            }
            Assert.Equal(reference.Count, sim.PendingEvents);
        }
        while (reference.Count > 0)
        {
            var first = reference.Min;
            reference.Remove(first);
            expectedLog.Add(first.Id);
        }
        sim.Run(Tick.MaxValue);
        Assert.Equal(expectedLog, log);
        Assert.True(sim.Queue.Rebuilds > 5, $"the script should have resized and re-widthed the calendar, rebuilt {sim.Queue.Rebuilds} times");
    }

    [Fact]
    public void An_event_scheduled_before_the_next_pending_one_after_a_time_limited_run_is_not_skipped()
    {
        var sim = new Simulator(3);
        var log = new List<int>();
        var late = new Recorder(log, 1, 0);
        var early = new Recorder(log, 2, 0);
        sim.Schedule(late, Tick.FromSeconds(10));
        Assert.Equal(RunOutcome.TimeLimit, sim.Run(Tick.FromMilliseconds(1)));
        sim.Schedule(early, sim.Now + new Tick(1));
        sim.Run(Tick.MaxValue);
        Assert.Equal([2, 1], log);
    }
}
