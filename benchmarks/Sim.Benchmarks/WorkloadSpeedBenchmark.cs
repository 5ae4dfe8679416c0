using BenchmarkDotNet.Attributes;
using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Workloads;

namespace Sim.Benchmarks;

/// <summary>
/// How fast the machine model simulates whole workloads: one native run of <c>gups</c> or
/// <c>compute</c> on the Nehalem profile, the machine built and the memory mapped beforehand
/// (not timed). docs/performance.md turns the time per run into simulated instructions and
/// memory references per second; the baseline in the same run is the event-engine hold loop
/// (<see cref="HoldBenchmark"/>), run separately.
/// </summary>
[InvocationCount(1)]
public class WorkloadSpeedBenchmark
{
    private WorkloadRun.PreparedRun _run = null!;

    [Params("gups", "compute")]
    public string Workload { get; set; } = "";

    /// <summary>Sizes giving runs of a few hundred milliseconds.</summary>
    private long Size => Workload == "gups" ? 200_000 : 1_000_000;

    [IterationSetup]
    public void Prepare() => _run = WorkloadRun.Prepare(HardwareProfiles.NehalemX5570, WorkloadCatalog.Get(Workload).Workload, Size, seed: 1);

    [Benchmark]
    public WorkloadRunResult Run() => _run.Execute();
}
