using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Queueing;

namespace Sim.Models.Tests.Queueing;

public class ServiceStationTests
{
    [Theory]
    [InlineData(1, 0.5, 0.5)]            // M/M/1: an arrival waits with probability rho
    [InlineData(2, 1.0, 1.0 / 3.0)]      // C(2, 1) = (1/2 * 2) / (1 + 1 + 1)
    public void Erlang_C_matches_hand_computed_values(int servers, double load, double expected) =>
        Assert.Equal(expected, ErlangC.ProbabilityOfWaiting(servers, load), 12);

    [Fact]
    public void Erlang_C_refuses_an_unstable_load() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ErlangC.ProbabilityOfWaiting(2, 2.0));

    [Fact]
    public void Customers_are_conserved_and_Littles_law_holds_on_the_sample_path()
    {
        var sim = new Simulator(3);
        var p = new ServiceStationParameters(2, 150_000, Tick.FromMicroseconds(10)); // utilization 0.75
        var station = new ServiceStation(sim, "s", p);
        station.Start();
        sim.Run(Tick.FromMilliseconds(500));
        var stats = sim.Stats.Snapshot(sim.Now).ToDictionary(s => s.Statistic, s => s.Value);
        double arrivals = stats["arrivals"], completions = stats["completions"];
        double started = stats["wait_time::count"]; // every customer whose service began recorded a wait
        Assert.InRange(arrivals - started, 0, stats["queue_length::max"]); // still waiting at the end
        Assert.InRange(started - completions, 0, p.Servers);               // still in service at the end
        // L_q = lambda_observed * W_q, on the same sample path (up to the customers still inside at the end).
        double lambda = arrivals / sim.Now.TotalSeconds;
        double wq = stats["wait_time::mean"] / Tick.PicosecondsPerSecond;
        Assert.Equal(stats["queue_length::mean"], lambda * wq, stats["queue_length::mean"] * 0.02);
        Assert.Equal(p.Utilization * 2, stats["busy_servers::mean"], 0.02);
    }

    [Fact]
    public void Impossible_parameters_are_refused()
    {
        var sim = new Simulator(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceStation(sim, "a", new(0, 1, Tick.FromMicroseconds(1))));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceStation(sim, "b", new(1, -1, Tick.FromMicroseconds(1))));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceStation(sim, "c", new(1, 1, Tick.Zero)));
    }
}
