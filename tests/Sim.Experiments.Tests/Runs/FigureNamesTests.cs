using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Workloads;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>What a workload says it reports before a run (its figure names) is what its run reports: studies are checked against the names.</summary>
public class FigureNamesTests
{
    public static TheoryData<string> Workloads() => [.. WorkloadCatalog.All.Select(w => w.Workload.Name)];

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Each_workload_s_run_reports_the_figures_it_names(string name)
    {
        (IWorkload workload, long size) = WorkloadCatalog.Get(name);
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, workload, Math.Min(size, name == "kernel-build" ? 1 : 20), seed: 1);
        Assert.Equal(workload.FigureNames, r.FiguresOfMerit.Select(f => f.Name));
    }

    [Fact]
    public void The_open_loop_web_service_names_its_response_times()
    {
        IWorkload web = new Web().AtRate(5000);
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, web, 20, seed: 1);
        Assert.Equal(web.FigureNames, r.FiguresOfMerit.Select(f => f.Name));
        Assert.Contains("response_p99", web.FigureNames);
    }
}
