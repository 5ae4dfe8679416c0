namespace Sim.Models.Cpu;

/// <summary>What an instruction does when a guest kernel runs deprivileged (ring 1 or 3) on x86 without VT-x.</summary>
public enum DeprivilegedBehaviour
{
    /// <summary>It faults, so a trap-and-emulate monitor gets control and can emulate it.</summary>
    Traps,

    /// <summary>It completes without a fault but does or reveals something other than at ring 0: a virtualization hole (Popek and Goldberg's condition fails).</summary>
    MisbehavesSilently,

    /// <summary>It behaves the same whatever the privilege level: nothing to virtualize.</summary>
    Unaffected,
}
