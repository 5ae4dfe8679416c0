using Sim.Models.Cpu;
using Sim.Models.Kernel;
using Sim.Models.Platform;

namespace Sim.Workloads.Processes;

/// <summary>
/// What every workload run as processes under the Linux-like kernel shares: user mode, no memory
/// to prepare outside the kernel (the process image does that), and its program as its stream.
/// </summary>
public abstract class ProcessWorkload : IProcessWorkload
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    public int Cpl => 3;

    public abstract IReadOnlyList<MemoryRegion> CreateImage(LinuxKernel kernel, WorkloadContext context);

    /// <summary>
    /// The usual image, in the layout exec gives (<see cref="ExecutableImage"/>): text, data (left out when <paramref name="dataPages"/> is 0), any regions
    /// the workload adds, then the stack; sizes in 4 KiB pages.
    /// </summary>
    protected static MemoryRegion[] Image(ulong textPages, ulong dataPages, ulong stackPages, params MemoryRegion[] extra)
    {
        var regions = new List<MemoryRegion> { new("text", ExecutableImage.TextBase, textPages, Writable: false) };
        if (dataPages > 0)
        {
            regions.Add(new("data", ExecutableImage.DataBase, dataPages, Writable: true));
        }
        regions.AddRange(extra);
        regions.Add(new("stack", ExecutableImage.StackBase, stackPages, Writable: true));
        return [.. regions];
    }

    public void Prepare(WorkloadContext context)
    {
    }

    public IOpStream CreateStream(WorkloadContext context) => CreateProgram(context);

    public abstract IProgram CreateProgram(WorkloadContext context);

    public abstract IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome);

    public abstract IReadOnlyList<string> FigureNames { get; }

    public virtual void ConfigurePlatform(IPlatform platform, WorkloadContext context)
    {
    }

    public virtual void ConfigureKernel(LinuxKernel kernel, WorkloadContext context)
    {
    }
}
