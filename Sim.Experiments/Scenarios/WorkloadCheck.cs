using Sim.Experiments.Runs;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Scenarios;

/// <summary>One figure of a request as the workload file gives it and as the simulation produced it.</summary>
/// <param name="Asked">The file's figure; null where the file gives none.</param>
/// <param name="Imposed">Whether the model makes the figure from the file (then it must come out within <see cref="WorkloadCheck.Tolerance"/>), or only measures it to compare.</param>
public sealed record CheckedFigure(string Quantity, double? Asked, double Simulated, bool Imposed)
{
    /// <summary>Whether the simulated figure is within the tolerance of the asked one (true when nothing was asked).</summary>
    public bool Within => Asked is not { } asked || Math.Abs(Simulated - asked) <= WorkloadCheck.Tolerance * Math.Max(asked, 1e-9) || (asked == 0 && Simulated == 0);
}

/// <summary>
/// <c>virtsim workload check FILE</c>: runs a workload file's service natively and sets the
/// per-request figures the kernel and the devices counted beside those the file asked for. A
/// request's figure is the run's count at twice the requests less its count at the requests, over
/// the requests: what one more request costs, with the process's start and end left out.
/// </summary>
public static class WorkloadCheck
{
    /// <summary>How far a figure the model makes may come out from the file's: 5%.</summary>
    public const double Tolerance = 0.05;

    /// <summary>The figures of the service of <paramref name="workload"/> (<c>file:PATH</c>) run natively on <paramref name="profile"/>, over <paramref name="requests"/> requests.</summary>
    public static IReadOnlyList<CheckedFigure> Run(string workload, string profile, long requests, ulong seed = 42)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentOutOfRangeException.ThrowIfLessThan(requests, 10);
        var scenario = new WorkloadScenario { Workload = workload, Profile = profile, Size = requests, Seed = seed };
        if (scenario.FirstProblem() is { } problem)
        {
            throw new ScenarioException(problem);
        }
        ServiceSpec spec = WorkloadFile.Load(workload).Spec;
        WorkloadRunResult one = scenario.RunOnce(seed), two = (scenario with { Size = 2 * requests }).RunOnce(seed);
        int cpus = scenario.ResolveProfile().MostCores;
        double Kernel(WorkloadRunResult r, params string[] names) => names.Sum(n => r.Stat("host.kernel", n));
        double PerRequest(Func<WorkloadRunResult, double> count) => (count(two) - count(one)) / requests;
        return
        [
            new("system calls", spec.SyscallsPerRequest, PerRequest(r => Kernel(r, "syscalls")), Imposed: true),
            // A request's forks fault on their own (the parent's copies on write, the CGI program's pages): shown with the file's, not held to it.
            new(spec.ForksPerRequest > 0 ? "minor page faults (the forks' own among them)" : "minor page faults", spec.MinorFaults,
                PerRequest(r => Kernel(r, "demand_zero_faults", "copy_on_write_faults", "file_faults")), Imposed: spec.ForksPerRequest == 0),
            new("major page faults", spec.MajorFaults, PerRequest(r => r.Stat(r.KernelPath + ".filemap", "major_faults") + r.Stat(r.KernelPath + ".swap", "major_faults")), Imposed: true),
            new("packets in", spec.RequestPackets, PerRequest(r => r.Stat("host.nic0", "frames_received")), Imposed: true),
            new("packets out", spec.ResponsePackets, PerRequest(r => r.Stat("host.nic0", "frames_sent")), Imposed: true),
            new("block I/Os (reads and writes)", spec.BlockReads + spec.BlockWrites, PerRequest(r => Kernel(r, "block_latency::count")), Imposed: true),
            new("voluntary context switches", spec.ContextSwitches, PerRequest(r => r.Stat(r.KernelPath + ".sched", "voluntary_switches")), Imposed: false),
            new("instructions, user and kernel", null, PerRequest(r => Enumerable.Range(0, cpus).Sum(c => r.Stat($"host.cpu{c}", "instructions"))), Imposed: false),
        ];
    }
}
