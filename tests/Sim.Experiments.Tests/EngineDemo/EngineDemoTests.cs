using Sim.Engine.Time;
using Sim.Experiments.EngineDemo;
using Sim.Experiments.Output;

namespace Sim.Experiments.Tests.EngineDemo;

public class EngineDemoTests
{
    private static readonly EngineDemoScenario Small = new()
    {
        Repetitions = 4,
        Duration = Tick.FromMilliseconds(200),
        WarmUp = Tick.FromMilliseconds(20),
    };

    [Fact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        string Csv(int threads)
        {
            var w = new StringWriter();
            StatsCsv.Write(w, EngineDemoRun.RunAll(Small, threads));
            return w.ToString();
        }
        Assert.Equal(Csv(1), Csv(4));
    }

    [Fact]
    public void The_simulated_station_agrees_with_Erlang_C()
    {
        // 4 x 200 ms at 320,000 arrivals per second: about 256,000 customers. The busy-server
        // count is the tightest figure (relative spread well under 1%); the waits, dominated by
        // rare long queues, are held to 5%.
        var report = EngineDemoReport.Build(Small, EngineDemoRun.RunAll(Small, 2));
        foreach (var row in report.Rows)
        {
            double tolerance = row.Quantity.Contains("busy", StringComparison.Ordinal) ? 0.01 : 0.05;
            Assert.True(Math.Abs(row.RelativeError) < tolerance, $"{row.Quantity}: simulated {row.Simulated.Mean}, exact {row.Exact}");
        }
        Assert.Contains("| mean busy servers | servers |", report.ToMarkdown(), StringComparison.Ordinal);
    }

    [Fact]
    public void Only_the_first_repetition_is_traced_and_the_trace_is_bounded()
    {
        var runs = EngineDemoRun.RunAll(Small with { Repetitions = 2, TraceCapacity = 1_000 }, 2);
        Assert.NotNull(runs[0].Trace);
        Assert.Null(runs[1].Trace);
        Assert.Equal(1_000, runs[0].Trace!.Count);
        Assert.True(runs[0].Trace!.Dropped > 0);
    }

    [Fact]
    public void Bad_scenarios_are_refused_before_running()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineDemoRun.RunAll(Small with { Utilization = 1.0 }, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineDemoRun.RunAll(Small with { Repetitions = 0 }, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineDemoRun.RunAll(Small with { Servers = 0 }, 1));
    }
}
