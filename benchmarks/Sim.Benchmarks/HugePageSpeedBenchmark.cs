using BenchmarkDotNet.Attributes;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Benchmarks;

/// <summary>
/// What transparent huge pages cost (or save) the simulator: RandomAccess as a Linux process
/// (<c>gups-linux</c>, 200,000 updates over 64 MiB) on Nehalem, natively and in a KVM guest, with
/// 4 KiB pages and with huge pages in every dimension the architecture has (the guest kernel's
/// THP, and under KVM the host's 2 MiB EPT pages). The baseline is the native run with 4 KiB
/// pages, in the same job. Booting (and the 64 MiB table's mapping) is outside the timing.
/// </summary>
[InvocationCount(1)]
public class HugePageSpeedBenchmark
{
    private WorkloadRun.PreparedRun _run = null!;

    [Params("native", "type1")]
    public string Preset { get; set; } = "";

    [Params(false, true)]
    public bool HugePages { get; set; }

    [IterationSetup]
    public void Prepare()
    {
        var scenario = new WorkloadScenario
        {
            Workload = "gups-linux", Profile = "nehalem-x5570", Preset = Preset, Size = 200_000,
            TransparentHugePages = HugePages ? "always" : "never", LargeEptPages = HugePages && Preset == "type1",
        };
        (Sim.Workloads.IWorkload workload, long size) = scenario.ResolveWorkload();
        _run = WorkloadRun.Prepare(scenario.ResolveProfile(), workload, size, seed: 1, scenario.ResolveMachine(), scenario.ResolveAxes(),
            scenario.ResolveMonitorParameters(), consolidation: scenario.ResolveConsolidation());
    }

    [Benchmark]
    public WorkloadRunResult Run() => _run.Execute();
}
