using Sim.Engine.Events;
using Sim.Engine.Randomness;
using Sim.Engine.Time;

namespace Sim.Engine.Tests.Events;

public class SimulatorTests
{
    private sealed class Counting(Simulator sim, Tick period) : Event
    {
        public int Fired { get; private set; }

        protected override void Process()
        {
            Fired++;
            if (period > Tick.Zero)
            {
                sim.Schedule(this, sim.Now + period);
            }
        }
    }

    [Fact]
    public void Scheduling_in_the_past_or_twice_is_refused_with_a_clear_message()
    {
        var sim = new Simulator(1);
        var ev = new Counting(sim, Tick.Zero);
        sim.Schedule(ev, new Tick(100));
        var twice = Assert.Throws<InvalidOperationException>(() => sim.Schedule(ev, new Tick(200)));
        Assert.Contains("already scheduled", twice.Message, StringComparison.Ordinal);
        sim.Run(Tick.MaxValue);
        var past = Assert.Throws<ArgumentOutOfRangeException>(() => sim.Schedule(ev, new Tick(99)));
        Assert.Contains("before the current time", past.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancel_and_reschedule_change_what_runs()
    {
        var sim = new Simulator(1);
        var a = new Counting(sim, Tick.Zero);
        var b = new Counting(sim, Tick.Zero);
        sim.Schedule(a, new Tick(10));
        sim.Schedule(b, new Tick(20));
        Assert.True(sim.Cancel(a));
        Assert.False(sim.Cancel(a));
        Assert.False(a.Scheduled);
        sim.Reschedule(b, new Tick(5));
        Assert.Equal(new Tick(5), b.When);
        Assert.Equal(RunOutcome.QueueEmpty, sim.Run(Tick.MaxValue));
        Assert.Equal(0, a.Fired);
        Assert.Equal(1, b.Fired);
        Assert.Equal(new Tick(5), sim.Now);
        Assert.Equal(1UL, sim.EventsProcessed);
    }

    [Fact]
    public void Run_stops_at_the_time_limit_the_event_limit_a_stop_or_a_condition()
    {
        var sim = new Simulator(1);
        var ticker = new Counting(sim, new Tick(10));
        sim.Schedule(ticker, new Tick(10));

        Assert.Equal(RunOutcome.TimeLimit, sim.Run(new Tick(55)));
        Assert.Equal(5, ticker.Fired); // 10, 20, 30, 40, 50
        Assert.Equal(new Tick(55), sim.Now);

        Assert.Equal(RunOutcome.EventLimit, sim.Run(Tick.MaxValue, maxEvents: 3));
        Assert.Equal(8, ticker.Fired);

        Assert.Equal(RunOutcome.ConditionFalse, sim.RunWhile(() => ticker.Fired < 12, Tick.MaxValue));
        Assert.Equal(12, ticker.Fired);

        var stopper = new CallbackEvent("stop", sim.Stop, EventPriority.Exit);
        sim.Schedule(stopper, sim.Now + new Tick(20)); // at 140, with the ticker
        Assert.Equal(RunOutcome.Stopped, sim.Run(Tick.MaxValue));
        Assert.Equal(14, ticker.Fired); // the ticker at the stop's tick runs first: lower priority value
        Assert.Equal(new Tick(140), sim.Now);
    }

    [Fact]
    public void Run_cannot_be_nested_inside_an_event()
    {
        var sim = new Simulator(1);
        Exception? caught = null;
        sim.Schedule(new CallbackEvent("nest", () => caught = Record.Exception(() => sim.Run(Tick.MaxValue))), new Tick(1));
        sim.Run(Tick.MaxValue);
        Assert.IsType<InvalidOperationException>(caught);
    }

    [Fact]
    public void A_handler_can_ask_for_the_next_pending_event_time()
    {
        // The CPU model of later issues runs inline until the next pending event: it asks this
        // from inside its own handler, which must not confuse the queue.
        var sim = new Simulator(1);
        Tick? seen = null;
        var other = new Counting(sim, Tick.Zero);
        sim.Schedule(other, new Tick(500));
        sim.Schedule(new CallbackEvent("ask", () => seen = sim.NextEventTime), new Tick(100));
        sim.Run(Tick.MaxValue);
        Assert.Equal(new Tick(500), seen);
        Assert.Equal(1, other.Fired);
    }

    [Fact]
    public void The_hold_pattern_allocates_nothing_in_steady_state()
    {
        var sim = new Simulator(1);
        RandomStream random = sim.Random.For("hold");
        for (int i = 0; i < 1_000; i++)
        {
            sim.Schedule(new Hold(sim, random), new Tick(1 + random.NextBelow(1_000_000)));
        }
        sim.Run(Tick.MaxValue, 200_000); // growth and width estimation happen here
        long before = GC.GetAllocatedBytesForCurrentThread();
        sim.Run(Tick.MaxValue, 200_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private sealed class Hold(Simulator sim, RandomStream random) : Event
    {
        protected override void Process() => sim.Schedule(this, new Tick(sim.Now.Picoseconds + 1 + random.NextBelow(1_000_000)));
    }
}
