using Sim.Models.Cpu;

namespace Sim.Workloads;

/// <summary>
/// A deterministic workload: it prepares its memory in the process's address space, then
/// produces one thread's operation stream, and turns what the run measured into its figures of
/// merit. Written once and run unchanged under every architecture; its random draws come from
/// streams keyed by workload and thread, never by architecture (STYLE rule 4).
/// </summary>
public interface IWorkload
{
    string Name { get; }

    string Description { get; }

    /// <summary>The ring the workload's thread runs in (3 for applications; 0 for kernel-mode nanobenchmarks).</summary>
    int Cpl { get; }

    void Prepare(WorkloadContext context);

    IOpStream CreateStream(WorkloadContext context);

    IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome);

    /// <summary>
    /// The names of the figures <see cref="FiguresOfMerit"/> reports, in its order, known before
    /// any run: so that a study naming a figure the workload lacks is refused before it simulates
    /// (a test holds every workload's names to what its run reports).
    /// </summary>
    IReadOnlyList<string> FigureNames { get; }
}
