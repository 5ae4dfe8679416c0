using Sim.Workloads.Nanobenchmarks;
using Sim.Workloads.Processes;
using Sim.Workloads.Synthetic;

namespace Sim.Workloads;

/// <summary>Every workload by name, with the size a run uses when none is given.</summary>
public static class WorkloadCatalog
{
    public static IReadOnlyList<(IWorkload Workload, long DefaultSize)> All { get; } =
    [
        .. Nanobenchmark.All.Select(n => ((IWorkload)n, 10_000L)),
        (new ForkWait(), 40_000L),
        .. Lmbench.All.Select(l => ((IWorkload)l, 2_000L)),
        (new FioRandRead(), 200L),
        (new FioRandRead(jobs: 32), 2_000L),
        (new Idle(), 100L),
        (new NetperfRr(), 2_000L),
        (new NetperfStream(), 5_000L),
        (new Web(), 500L),
        (new Oltp(), 100L),
        (new KernelBuild(), 10L),
        (new LockCounter(), 1_000L),
        (new LockCounter(mutex: true), 1_000L),
        (new TlbShootdown(), 200L),
        (new StreamThreads(), 100_000L),
        (new StreamTriad(), 200_000L),
        (new Gups(), 200_000L),
        (new Compute(), 500_000L),
        (new LinuxProcess(new StreamTriad()), 200_000L),
        (new LinuxProcess(new Gups()), 200_000L),
        (new LinuxProcess(new Compute()), 500_000L),
    ];

    public static (IWorkload Workload, long DefaultSize) Get(string name) =>
        All.FirstOrDefault(w => w.Workload.Name == name) is { Workload: not null } found
            ? found
            : throw new ArgumentException($"There is no workload '{name}'; the workloads are: {string.Join(", ", All.Select(w => w.Workload.Name))}.", nameof(name));
}
