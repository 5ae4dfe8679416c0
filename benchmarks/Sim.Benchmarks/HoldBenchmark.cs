using BenchmarkDotNet.Attributes;
using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Randomness;
using Sim.Engine.Time;

namespace Sim.Benchmarks;

/// <summary>
/// The classic hold model of event-set benchmarks: N events pending; each processed event
/// schedules one new event at a random future time, so the queue stays at N. The baseline is a
/// bare <see cref="PriorityQueue{TElement, TPriority}"/> doing the same dequeue/enqueue with
/// the same random delays (it keeps no priority or sequence order and runs no handler, so it
/// is the cost of the data structure alone).
/// </summary>
public class HoldBenchmark
{
    private const int EventsPerInvoke = 1_000_000;

    // Uniform integer delays in [1, 2 * mean] picoseconds; the mean is immaterial to a heap.
    private const ulong MeanDelayPicoseconds = 1_000_000;

    private Simulator _sim = null!;
    private PriorityQueue<int, ulong> _baseline = null!;
    private RandomStream _baselineRandom = null!;

    [Params(1_000, 10_000)]
    public int PendingEvents { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sim = new Simulator(seed: 1);
        RandomStream random = _sim.Random.For("hold");
        for (int i = 0; i < PendingEvents; i++)
        {
            var ev = new HoldEvent(_sim, random);
            _sim.Schedule(ev, new Tick(NextDelay(random)));
        }
        _baselineRandom = new RandomStream(1);
        _baseline = new PriorityQueue<int, ulong>(PendingEvents);
        for (int i = 0; i < PendingEvents; i++)
        {
            _baseline.Enqueue(i, NextDelay(_baselineRandom));
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerInvoke)]
    public ulong PriorityQueueBaseline()
    {
        ulong now = 0;
        for (int i = 0; i < EventsPerInvoke; i++)
        {
            _baseline.TryDequeue(out int element, out now);
            _baseline.Enqueue(element, now + NextDelay(_baselineRandom));
        }
        return now;
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public RunOutcome Engine() => _sim.Run(Tick.MaxValue, EventsPerInvoke);

    private static ulong NextDelay(RandomStream random) => 1 + random.NextBelow(2 * MeanDelayPicoseconds);

    private sealed class HoldEvent(Simulator sim, RandomStream random) : Event
    {
        protected override void Process() => sim.Schedule(this, new Tick(sim.Now.Picoseconds + NextDelay(random)));
    }
}
