using Sim.Experiments.Tour;
using Sim.Models.Cpu;

namespace Sim.Experiments.Tests.Runs;

public class ArchitectureTourTests
{
    [Fact]
    public void Every_warm_cycle_is_accounted_and_what_cannot_run_says_why()
    {
        var tour = new ArchitectureTour("nehalem-x5570", 1, [new("in", 100), new("lat-null", 100)]);
        IReadOnlyList<TourResult> results = tour.Run(threads: 2);
        Assert.Equal(["in", "lat-null"], results.Select(r => r.Workload));
        foreach (TourOutcome o in results.SelectMany(r => r.Outcomes).Where(o => o.Ran))
        {
            Assert.Equal(o.TotalCycles, Enum.GetValues<CycleCategory>().Sum(o.Cycles));
            Assert.True(o.Seconds > 0);
        }
        TourOutcome containers = results[0].Outcomes.Single(o => o.Architecture == "oslevel");
        Assert.False(containers.Ran);
        Assert.Contains("minimal test kernel", containers.NotRun, StringComparison.Ordinal);
        // One exit per IN under VT-x, in the warm half as in the whole.
        TrapKind exit = results[0].Outcomes.Single(o => o.Architecture == "type1").Traps().Single();
        Assert.Equal(("IoInstruction", 100L, true), (exit.Kind, exit.Count, exit.Exact));
        Assert.Equal(6, results[1].Outcomes.Count(o => o.Ran));
    }

    [Fact]
    public void A_tour_with_an_unknown_workload_or_profile_says_so()
    {
        Assert.Contains("no workload 'spec'", new ArchitectureTour("nehalem-x5570", 1, [new("spec", 10)]).Problem(), StringComparison.Ordinal);
        Assert.Contains("no hardware profile 'zen'", new ArchitectureTour("zen", 1, [new("in", 10)]).Problem(), StringComparison.Ordinal);
        Assert.Null(ArchitectureTour.Default.Problem());
    }
}
