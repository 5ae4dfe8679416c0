using BenchmarkDotNet.Attributes;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Benchmarks;

/// <summary>
/// What a polling I/O thread costs the simulator: a KVM guest on two Nehalem cores reading the
/// NVMe medium through libaio at depth 64 (2,000 reads), its QEMU I/O thread pinned to the second
/// core, blocking between pieces of work (poll-max-ns 0: the baseline, in the same job) or
/// polling its queue as QEMU does by default (each look at the ring a stage of the model, about a
/// quarter of a microsecond apart). Booting is outside the timing.
/// </summary>
[InvocationCount(1)]
public class PollingSpeedBenchmark
{
    private WorkloadRun.PreparedRun _run = null!;

    [Params(0, 32_768)]
    public long PollMaxNs { get; set; }

    [IterationSetup]
    public void Prepare()
    {
        var scenario = new WorkloadScenario
        {
            Workload = "fio-randread", Profile = "nehalem-x5570", Disk = "nvme", Size = 2_000, Preset = "type1", Io = "paravirtual", HostCores = 2,
            IoThreadCpu = "1", IoEngine = "libaio", IoDepth = 64, IoThreadPollMaxNs = PollMaxNs,
        };
        (Sim.Workloads.IWorkload workload, long size) = scenario.ResolveWorkload();
        _run = WorkloadRun.Prepare(scenario.ResolveProfile(), workload, size, seed: 1, scenario.ResolveMachine(), scenario.ResolveAxes(),
            scenario.ResolveMonitorParameters(), containers: scenario.ResolveContainers(), consolidation: scenario.ResolveConsolidation());
    }

    [Benchmark]
    public WorkloadRunResult Run() => _run.Execute();
}
