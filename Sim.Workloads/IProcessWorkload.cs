using Sim.Models.Kernel;
using Sim.Models.Platform;

namespace Sim.Workloads;

/// <summary>
/// A workload that runs as processes under the Linux-like kernel (it forks, exits, waits): it
/// gives the first process's memory image and program instead of a bare stream.
/// </summary>
public interface IProcessWorkload : IWorkload
{
    /// <summary>
    /// The first process's memory regions (VMAs), made after <see cref="ConfigureKernel"/> so that
    /// file-backed regions (shared libraries) can name files the kernel holds.
    /// </summary>
    IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context);

    IProgram CreateProgram(WorkloadContext context);

    /// <summary>
    /// Sets up what the workload needs around the machine (a client on the network's peer, at the
    /// context's <see cref="WorkloadContext.Port"/>) before its first process starts; nothing by default.
    /// </summary>
    void ConfigurePlatform(IPlatform platform, WorkloadContext context)
    {
    }

    /// <summary>Sets up what the workload needs in the kernel (files, executables) before the first process starts; nothing by default.</summary>
    void ConfigureKernel(LinuxKernel kernel, WorkloadContext context)
    {
    }
}
