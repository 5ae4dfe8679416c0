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

    public abstract IReadOnlyList<MemoryRegion> ProcessImage { get; }

    public void Prepare(WorkloadContext context)
    {
    }

    public IOpStream CreateStream(WorkloadContext context) => CreateProgram(context);

    public abstract IProgram CreateProgram(WorkloadContext context);

    public abstract IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome);

    public virtual void ConfigurePlatform(Machine machine)
    {
    }

    public virtual void ConfigureKernel(LinuxKernel kernel, WorkloadContext context)
    {
    }
}
