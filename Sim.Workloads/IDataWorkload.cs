namespace Sim.Workloads;

/// <summary>
/// A synthetic kernel that works on one block of data at <see cref="WorkloadContext.DataBase"/>:
/// it says how large the block is for a size, so that it can run as the minimal kernel's bare
/// stream (the block mapped by <see cref="IWorkload.Prepare"/>) or inside a process of the
/// Linux-like kernel (the block a region of the process's image: <c>Processes.LinuxProcess</c>).
/// </summary>
public interface IDataWorkload : IWorkload
{
    /// <summary>The bytes of data the kernel touches at <paramref name="size"/>, whole 4 KiB pages.</summary>
    ulong DataBytes(long size);
}
