using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>A process of <see cref="LinuxKernel"/>: its address space, memory regions, program, family and state.</summary>
public sealed class Process
{
    internal Process(int pid, Process? parent, AddressSpaceBuilder space, IReadOnlyList<MemoryRegion> regions, IProgram program)
    {
        Pid = pid;
        Parent = parent;
        Space = space;
        Regions = regions;
        Program = program;
    }

    public int Pid { get; }

    public Process? Parent { get; }

    public AddressSpaceBuilder Space { get; }

    public IReadOnlyList<MemoryRegion> Regions { get; }

    public IProgram Program { get; }

    public ProcessState State { get; internal set; } = ProcessState.Ready;

    public int ExitCode { get; internal set; }

    internal List<Process> Children { get; } = [];

    public MemoryRegion? RegionOf(ulong linearAddress) => Regions.FirstOrDefault(r => r.Contains(linearAddress));
}
