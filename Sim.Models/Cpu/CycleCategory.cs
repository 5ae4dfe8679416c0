namespace Sim.Models.Cpu;

/// <summary>
/// Where a core's cycles go; every cycle is charged to exactly one (DESIGN rule 5). Under a
/// hypervisor, <see cref="User"/> and <see cref="Kernel"/> are the guest's user and kernel time.
/// </summary>
public enum CycleCategory
{
    /// <summary>Executing at CPL 3.</summary>
    User,

    /// <summary>Executing at CPL 0, including exception and interrupt delivery.</summary>
    Kernel,

    /// <summary>Page walks after TLB misses, and the STLB penalty.</summary>
    PageWalk,

    /// <summary>Waiting for loads and stores beyond the first-level cache latency.</summary>
    MemoryStall,

    /// <summary>Halted, waiting for an interrupt.</summary>
    Idle,

    /// <summary>VM exits and VM entries: the hardware's world switch between VMX non-root and root mode.</summary>
    VmTransition,

    /// <summary>Executing in VMX root mode on behalf of a guest: the hypervisor's exit handlers.</summary>
    Hypervisor,

    /// <summary>The part of an exit handler that is a device model emulating a register access.</summary>
    DeviceEmulation,

    /// <summary>Binary translation: the translator making fragments of guest kernel code, and the continuations that chain them (translated code's own lookups of indirect targets are the guest kernel's time).</summary>
    Translation,

    /// <summary>A hosted monitor's switches between its own world and the host operating system's, and the host's system calls on the way.</summary>
    WorldSwitch,

    /// <summary>
    /// A virtual CPU waiting while its physical core runs another virtual CPU (what a Linux guest
    /// reports as steal time): charged to the virtual CPU's context, never to a physical core's work.
    /// </summary>
    Descheduled,
}
