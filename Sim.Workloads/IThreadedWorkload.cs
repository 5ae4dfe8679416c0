namespace Sim.Workloads;

/// <summary>A workload whose process runs several threads (clone with a shared address space): the scenario key <c>process_threads</c>.</summary>
public interface IThreadedWorkload : IWorkload
{
    /// <summary>The threads of the workload's process, the main one included.</summary>
    int Threads { get; }

    /// <summary>The workload with <paramref name="threads"/> threads.</summary>
    IWorkload WithThreads(int threads);
}
