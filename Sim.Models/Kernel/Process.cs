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
        _regions = [.. regions];
        Program = program;
    }

    public int Pid { get; }

    public Process? Parent { get; }

    public AddressSpaceBuilder Space { get; }

    private readonly List<MemoryRegion> _regions;

    public IReadOnlyList<MemoryRegion> Regions => _regions;

    /// <summary>Where the next mmap goes: above every region below the stack area (a simple bump allocator of address space).</summary>
    internal ulong NextMapBase { get; set; } = 0x0000_7000_0000_0000;

    internal void AddRegion(MemoryRegion region) => _regions.Add(region);

    internal void RemoveRegion(MemoryRegion region) => _regions.Remove(region);

    public IProgram Program { get; }

    public ProcessState State { get; internal set; } = ProcessState.Ready;

    public int ExitCode { get; internal set; }

    internal List<Process> Children { get; } = [];

    public MemoryRegion? RegionOf(ulong linearAddress) => Regions.FirstOrDefault(r => r.Contains(linearAddress));
}
