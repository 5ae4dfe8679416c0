using BenchmarkDotNet.Attributes;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Benchmarks;

/// <summary>
/// What host swap costs the simulator: two KVM guests on Nehalem each running lmbench's
/// lat_pagefault (<c>lat-pagefault</c>, 8,000 fresh pages, 31 MiB) with memory backed on first
/// touch and a 256 MiB host swap area, on a host of 512 MiB (everything fits: the baseline, in
/// the same job) or of 300 MiB (44 MiB of frames for the guests: about 7,500 pages go to swap,
/// each through kswapd's or a fault's reclaim pass and the SSD). Booting is outside the timing.
/// </summary>
[InvocationCount(1)]
public class HostSwapSpeedBenchmark
{
    private WorkloadRun.PreparedRun _run = null!;

    [Params(512, 300)]
    public int HostMiB { get; set; }

    [IterationSetup]
    public void Prepare()
    {
        var scenario = new WorkloadScenario
        {
            Workload = "lat-pagefault", Profile = "nehalem-x5570", Preset = "type1", Size = 8_000, Guests = 2, GuestMemoryMiB = 128, GuestMemoryBacking = "on_touch",
            HostMemoryMiB = HostMiB, HostSwapMiB = 256,
        };
        (Sim.Workloads.IWorkload workload, long size) = scenario.ResolveWorkload();
        _run = WorkloadRun.Prepare(scenario.ResolveProfile(), workload, size, seed: 1, scenario.ResolveMachine(), scenario.ResolveAxes(),
            scenario.ResolveMonitorParameters(), containers: scenario.ResolveContainers(), consolidation: scenario.ResolveConsolidation());
    }

    [Benchmark]
    public WorkloadRunResult Run() => _run.Execute();
}
