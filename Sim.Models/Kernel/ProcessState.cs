namespace Sim.Models.Kernel;

/// <summary>Where a process is in its life.</summary>
public enum ProcessState
{
    Ready,
    Running,

    /// <summary>Blocked on a device, a timer or a futex (a disk request, a datagram, nanosleep, FUTEX_WAIT).</summary>
    Waiting,

    /// <summary>Blocked in wait4 until a child exits.</summary>
    WaitingForChild,
    Zombie,
}
