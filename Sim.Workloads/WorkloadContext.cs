using Sim.Engine.Randomness;
using Sim.Models.Kernel;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Workloads;

/// <summary>
/// What a workload sees: the process's address space and the machine's memory (to map its data),
/// the run's random streams, and its size parameter (elements, updates or iterations, as the
/// workload defines it).
/// </summary>
public sealed class WorkloadContext(AddressSpaceBuilder space, PhysicalMemory memory, RandomStreams random, long size)
{
    /// <summary>Where workload data begins in the user half of the address space.</summary>
    public const ulong DataBase = 0x0000_0000_4000_0000;

    public AddressSpaceBuilder Space { get; } = space;

    public PhysicalMemory Memory { get; } = memory;

    public RandomStreams Random { get; } = random;

    public long Size { get; } = size;

    /// <summary>The UDP port of the workload's socket (<see cref="LinuxKernel.ServicePort"/>): its container's, where clients on the network's peer reach it.</summary>
    public ushort Port { get; init; } = LinuxKernel.FirstServicePort;

    private readonly Dictionary<Type, object> _state = [];

    /// <summary>The workload's own state for this guest (a client's measurements), made on first use; one per type.</summary>
    public T State<T>()
        where T : class, new()
    {
        if (!_state.TryGetValue(typeof(T), out object? state))
        {
            state = new T();
            _state.Add(typeof(T), state);
        }
        return (T)state;
    }

    /// <summary>Maps <paramref name="bytes"/> of fresh, present, user-writable 4 KiB pages at <paramref name="linearBase"/>.</summary>
    public void MapData(ulong linearBase, ulong bytes)
    {
        for (ulong offset = 0; offset < bytes; offset += 4096)
        {
            Space.Map4K(linearBase + offset, Memory.AllocateFrame(), PageEntry.Writable | PageEntry.User);
        }
    }
}
