using BenchmarkDotNet.Attributes;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Benchmarks;

/// <summary>
/// What swap costs the simulator: lmbench's lat_pagefault (<c>lat-pagefault</c>, 8,000 fresh pages,
/// 31 MiB) in a container on Nehalem with a 128 MiB swap area, its memory cgroup limited to 64 MiB
/// (everything fits: the baseline, in the same job) or to 16 MiB (half the pages go to swap, each
/// write a request through the AHCI driver and the SSD). Booting is outside the timing.
/// </summary>
[InvocationCount(1)]
public class SwapSpeedBenchmark
{
    private WorkloadRun.PreparedRun _run = null!;

    [Params(64, 16)]
    public int ContainerMiB { get; set; }

    [IterationSetup]
    public void Prepare()
    {
        var scenario = new WorkloadScenario
        {
            Workload = "lat-pagefault", Profile = "nehalem-x5570", Preset = "oslevel", Size = 8_000, ContainerMemoryMiB = ContainerMiB, SwapMiB = 128,
        };
        (Sim.Workloads.IWorkload workload, long size) = scenario.ResolveWorkload();
        _run = WorkloadRun.Prepare(scenario.ResolveProfile(), workload, size, seed: 1, scenario.ResolveMachine(), scenario.ResolveAxes(),
            scenario.ResolveMonitorParameters(), containers: scenario.ResolveContainers(), consolidation: scenario.ResolveConsolidation());
    }

    [Benchmark]
    public WorkloadRunResult Run() => _run.Execute();
}
