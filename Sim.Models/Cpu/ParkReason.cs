namespace Sim.Models.Cpu;

/// <summary>Why a virtual CPU's context gave up its physical core (<see cref="OpKind.Park"/>), which says how its waiting is counted.</summary>
public enum ParkReason
{
    /// <summary>Runnable but preempted: its waiting is <see cref="CycleCategory.Descheduled"/> (steal time).</summary>
    Preempted,

    /// <summary>Blocked (its guest halted with nothing to do): its waiting is <see cref="CycleCategory.Idle"/> until it is woken, then descheduled until it runs.</summary>
    Blocked,

    /// <summary>Its guest has nothing more to run: it idles from here on and never runs again.</summary>
    PoweredOff,
}
