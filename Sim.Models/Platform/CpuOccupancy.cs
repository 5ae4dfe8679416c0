using Sim.Models.Cpu;

namespace Sim.Models.Platform;

/// <summary>
/// What one logical CPU of the host did with its cycles, whichever execution context ran on it
/// (a virtual CPU, a host process, the machine's own): the cycles the context on the CPU ran,
/// and those it halted (idle, or halted for a virtual CPU its cap parked). A context waiting off
/// the CPU adds nothing, so a CPU's busy and idle cycles are its own, not its contexts' sum,
/// and follow a virtual CPU that migrates.
/// </summary>
public sealed class CpuOccupancy
{
    /// <summary>Cycles a context ran on the CPU.</summary>
    public long BusyCycles { get; private set; }

    /// <summary>Cycles the CPU halted.</summary>
    public long IdleCycles { get; private set; }

    /// <summary>The busy share of the cycles accounted so far.</summary>
    public double Utilization => BusyCycles + IdleCycles == 0 ? 0 : (double)BusyCycles / (BusyCycles + IdleCycles);

    internal void Add(CycleCategory category, ulong cycles)
    {
        if (category is CycleCategory.Idle or CycleCategory.Descheduled)
        {
            IdleCycles += (long)cycles;
        }
        else
        {
            BusyCycles += (long)cycles;
        }
    }
}
