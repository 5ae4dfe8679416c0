using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Randomness;
using Sim.Engine.Randomness.Distributions;
using Sim.Engine.Time;
using Sim.Models.Devices;
using Sim.Models.Platform;

namespace Sim.Workloads.Processes;

/// <summary>
/// The client of a request-serving workload on the network's peer (<c>web</c>, and a service of a
/// workload file): it sends requests, each one datagram or several back to back, numbered (from
/// 1) in the id each of its frames carries; keeps which of those on the wire the server's NIC took
/// (in order: the link keeps it) and which requests lost a frame there; and gathers the frames of
/// each answer by id, so that an answer is whole when its last frame is in, whatever order the
/// server sent answers in. Closed-loop (the
/// next request when the whole answer is in, after a think time) or open-loop (Poisson arrivals at
/// a rate, whatever the answers do).
/// </summary>
public sealed class RequestClient
{
    private readonly Queue<uint> _onTheWire = new();
    private readonly Dictionary<uint, (Tick Sent, int Frames, int Taken)> _outstanding = [];
    private readonly HashSet<uint> _lostOnTheWire = [];
    private readonly List<double> _responseMicroseconds = [];
    private uint _lastId;

    /// <summary>The frames of an answer; set before the first request.</summary>
    public int ResponseFrames { get; set; } = 8;

    /// <summary>The frames of a request, each of its own datagram; set before the first request.</summary>
    public int RequestFrames { get; set; } = 1;

    /// <summary>Requests the server's NIC dropped a frame of for want of a receive buffer: never answered, left out of the response times.</summary>
    public long Lost { get; private set; }

    /// <summary>Frames the server's NIC took of requests it dropped another frame of: the server receives them, and no whole request comes of them.</summary>
    public long StrayFrames { get; private set; }

    /// <summary>A request sent now: its id, to go on the wire in each of its <see cref="RequestFrames"/>.</summary>
    public uint Sent(Tick now)
    {
        uint id = ++_lastId;
        for (int f = 0; f < RequestFrames; f++)
        {
            _onTheWire.Enqueue(id);
        }
        _outstanding.Add(id, (now, 0, 0));
        return id;
    }

    /// <summary>The oldest request frame on the wire reached the server's NIC, which took it or dropped it.</summary>
    public void Arrived(bool taken)
    {
        uint id = _onTheWire.Dequeue();
        if (_lostOnTheWire.Contains(id))
        {
            StrayFrames += taken ? 1 : 0; // a later frame of a request already lost
            return;
        }
        var request = _outstanding[id];
        if (taken)
        {
            _outstanding[id] = request with { Taken = request.Taken + 1 };
            return;
        }
        _outstanding.Remove(id);
        Lost++;
        StrayFrames += request.Taken; // its frames taken before this one
        if (RequestFrames > 1)
        {
            _lostOnTheWire.Add(id);
        }
    }

    /// <summary>A frame of the answer to request <paramref name="id"/> came in; true if it was the answer's last (its response time recorded).</summary>
    public bool Answered(uint id, Tick now)
    {
        if (!_outstanding.TryGetValue(id, out var request))
        {
            throw new InvalidOperationException($"An answer's frame carries id {id}, which no request on its way has: the server must copy each request's id into its answer.");
        }
        if (request.Frames + 1 < ResponseFrames)
        {
            _outstanding[id] = request with { Frames = request.Frames + 1 };
            return false;
        }
        _outstanding.Remove(id);
        _responseMicroseconds.Add((now - request.Sent).Picoseconds / 1e6);
        return true;
    }

    /// <summary>The response times so far, in microseconds, in ascending order.</summary>
    public double[] ResponseMicroseconds() => [.. _responseMicroseconds.Order()];

    /// <summary>The figures of merit a service's client measures (<see cref="Figures"/>).</summary>
    public static readonly string[] FigureNames = ["requests", "response_mean", "response_p50", "response_p99", "requests_lost"];

    /// <summary>Requests a second served (the run's <paramref name="size"/> over its time), and the response times' mean, median and 99th percentile, and the requests lost.</summary>
    public IReadOnlyList<Metric> Figures(long size, WorkloadOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        double[] times = ResponseMicroseconds();
        return
        [
            new Metric("requests", outcome.PerSecond(size), "requests/s"),
            new Metric("response_mean", times.Length > 0 ? times.Average() : double.NaN, "us"),
            new Metric("response_p50", Percentile(times, 0.50), "us"),
            new Metric("response_p99", Percentile(times, 0.99), "us"),
            new Metric("requests_lost", Lost, "requests"),
        ];
    }

    /// <summary>The nearest-rank percentile of <paramref name="sorted"/>; NaN when it is empty.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>
    /// Starts the client of <paramref name="context"/>'s guest (of the workload named
    /// <paramref name="workload"/>) on <paramref name="platform"/>'s peer, its events and random stream named after <paramref name="name"/>: requests of
    /// <see cref="RequestFrames"/> datagrams of <paramref name="requestBytes"/> each to the guest's port. Without a <paramref name="rate"/> it is
    /// closed-loop: the first request 10 us in, and each next one <paramref name="think"/> after the
    /// whole answer to the last. At a rate it is open-loop: the generator keeps its arrivals going
    /// until the server has received its size in requests; a request the NIC drops (no free receive
    /// buffer, under overload) is counted lost and replaced by the next arrival, so that an
    /// overloaded run ends, with its losses. With <paramref name="trace"/> instead of a rate it is
    /// open-loop too, its gaps between arrivals the trace's in order (from its first again when they
    /// are used up), the same whatever the seed.
    /// </summary>
    public void Start(IPlatform platform, WorkloadContext context, string workload, string name, int requestBytes, double? rate, Tick think, IReadOnlyList<Tick>? trace = null)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(context);
        NetworkPeer peer = platform.Devices.Peer ?? throw new InvalidOperationException($"The {workload} workload needs a NIC.");
        ushort port = context.Port;
        Simulator sim = platform.Sim;
        void SendRequest()
        {
            uint id = Sent(sim.Now);
            for (int f = 0; f < RequestFrames; f++)
            {
                peer.Send(new UdpFrame(requestBytes + EthernetLink.UdpHeaderBytes, port, id));
            }
        }
        if (rate is null && trace is null)
        {
            CallbackEvent? next = think == Tick.Zero ? null : new CallbackEvent(name + ".next-request", SendRequest);
            peer.Serve(port, frame =>
            {
                if (Answered(frame.Id, sim.Now))
                {
                    if (next is null)
                    {
                        SendRequest(); // the whole answer is in: the next request
                    }
                    else
                    {
                        sim.Schedule(next, sim.Now + think); // the whole answer is in: the next request after the think time
                    }
                }
            });
            peer.Track(port, Arrived);
            sim.Schedule(new CallbackEvent(name + ".first-request", SendRequest), sim.Now + Tick.FromMicroseconds(10));
            return;
        }
        peer.Serve(port, frame => Answered(frame.Id, sim.Now));
        Func<Tick> gap;
        if (rate is { } perSecond)
        {
            var gaps = new Exponential(Tick.PicosecondsPerSecond / perSecond);
            RandomStream random = sim.Random.For(name + ".arrivals");
            gap = () => new Tick((ulong)Math.Ceiling(gaps.Sample(random)));
        }
        else
        {
            int at = 0;
            gap = () => trace![at++ % trace.Count];
        }
        long sent = 0;
        bool arriving = false;
        CallbackEvent? arrival = null;
        void Next(Tick after)
        {
            arriving = true;
            sim.Schedule(arrival!, after + gap());
        }
        arrival = new CallbackEvent(name + ".arrival", () =>
        {
            SendRequest();
            arriving = false;
            if (++sent - Lost < context.Size)
            {
                Next(sim.Now);
            }
        });
        peer.Track(port, taken =>
        {
            Arrived(taken);
            if (!taken && !arriving && sent - Lost < context.Size)
            {
                Next(sim.Now);
            }
        });
        Next(sim.Now + Tick.FromMicroseconds(10));
    }
}
