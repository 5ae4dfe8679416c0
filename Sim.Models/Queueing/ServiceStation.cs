using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Randomness;
using Sim.Engine.Randomness.Distributions;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Engine.Tracing;

namespace Sim.Models.Queueing;

/// <summary>
/// A first-come-first-served station with identical servers, Poisson arrivals and exponential
/// service times: the M/M/c queue of queueing theory. It exercises every part of the engine
/// (self-rescheduling events, per-component random streams, counters, histograms, time averages,
/// trace spans and counters) and has an exact analytical answer (<see cref="ErlangC"/>), so a
/// run doubles as a check of the engine. The machine models of later issues will put requests
/// through stations like this (a disk's request queue, a device model's worker threads).
/// </summary>
public sealed class ServiceStation
{
    private readonly Simulator _sim;
    private readonly RandomStream _arrivalRandom;
    private readonly RandomStream _serviceRandom;
    private readonly Exponential _interarrival;
    private readonly Exponential _service;
    private readonly CallbackEvent _arrival;
    private readonly Server[] _servers;
    private readonly Stack<int> _idle = new();
    private readonly Queue<ulong> _waiting = new(); // arrival ticks of waiting customers

    private readonly Counter _arrivals;
    private readonly Counter _completions;
    private readonly Histogram _waitTime;
    private readonly Histogram _responseTime;
    private readonly TimeAverage _queueLength;
    private readonly TimeAverage _busyServers;

    private readonly TraceRecorder? _trace;
    private readonly int _queueTrack;
    private readonly int _queueName;
    private readonly int _serveName;

    public ServiceStation(Simulator sim, string path, ServiceStationParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate();
        _sim = sim;
        Parameters = parameters;
        _arrivalRandom = sim.Random.For(path + ".arrivals");
        _serviceRandom = sim.Random.For(path + ".service");
        _interarrival = new Exponential(Tick.PicosecondsPerSecond / parameters.ArrivalsPerSecond);
        _service = new Exponential(parameters.MeanServiceTime.Picoseconds);
        _arrival = new CallbackEvent(path + ".arrival", Arrive);

        StatGroup stats = sim.Stats.Group(path);
        _arrivals = stats.Counter("arrivals", "count", "customers that arrived");
        _completions = stats.Counter("completions", "count", "customers whose service ended");
        _waitTime = stats.Histogram("wait_time", "ps", "time from arrival to the start of service");
        _responseTime = stats.Histogram("response_time", "ps", "time from arrival to the end of service");
        _queueLength = stats.TimeAverage("queue_length", "customers", "customers waiting, not in service");
        _busyServers = stats.TimeAverage("busy_servers", "servers", "servers in service");

        _trace = sim.Trace;
        if (_trace is not null)
        {
            _queueTrack = _trace.Track(path);
            _queueName = _trace.Name("queue_length");
            _serveName = _trace.Name("serve");
        }
        _servers = new Server[parameters.Servers];
        for (int i = parameters.Servers - 1; i >= 0; i--)
        {
            _servers[i] = new Server(this, i, _trace?.Track($"{path}.server{i}") ?? 0);
            _idle.Push(i);
        }
    }

    public ServiceStationParameters Parameters { get; }

    /// <summary>Schedules the first arrival; the station then runs by itself.</summary>
    public void Start() => _sim.Schedule(_arrival, _sim.Now + NextDelay(_interarrival, _arrivalRandom));

    private static Tick NextDelay(Exponential distribution, RandomStream random) =>
        new((ulong)Math.Max(1.0, Math.Round(distribution.Sample(random))));

    private void Arrive()
    {
        _arrivals.Increment();
        if (_idle.Count > 0)
        {
            StartService(_idle.Pop(), _sim.Now);
        }
        else
        {
            _waiting.Enqueue(_sim.Now.Picoseconds);
            SetQueueLength();
        }
        _sim.Schedule(_arrival, _sim.Now + NextDelay(_interarrival, _arrivalRandom));
    }

    private void StartService(int server, Tick arrivedAt)
    {
        _waitTime.Record((long)(_sim.Now - arrivedAt).Picoseconds);
        Server s = _servers[server];
        s.ArrivedAt = arrivedAt;
        s.StartedAt = _sim.Now;
        _sim.Schedule(s, _sim.Now + NextDelay(_service, _serviceRandom));
        _busyServers.Set(_sim.Now, _servers.Length - _idle.Count);
    }

    private void Complete(Server server)
    {
        _completions.Increment();
        _responseTime.Record((long)(_sim.Now - server.ArrivedAt).Picoseconds);
        _trace?.Span(server.Track, _serveName, server.StartedAt, _sim.Now);
        if (_waiting.Count > 0)
        {
            ulong arrived = _waiting.Dequeue();
            SetQueueLength();
            StartService(server.Index, new Tick(arrived));
        }
        else
        {
            _idle.Push(server.Index);
            _busyServers.Set(_sim.Now, _servers.Length - _idle.Count);
        }
    }

    private void SetQueueLength()
    {
        _queueLength.Set(_sim.Now, _waiting.Count);
        _trace?.Counter(_queueTrack, _queueName, _sim.Now, _waiting.Count);
    }

    private sealed class Server(ServiceStation station, int index, int track) : Event(EventPriority.DeviceUpdate)
    {
        public int Index => index;

        public int Track => track;

        public Tick ArrivedAt { get; set; }

        public Tick StartedAt { get; set; }

        public override string Name => "service-completion";

        // A completion runs before a same-tick arrival (DeviceUpdate priority), so a server freed
        // at tick t serves a customer arriving at t: the usual convention of the M/M/c model.
        protected override void Process() => station.Complete(this);
    }
}
