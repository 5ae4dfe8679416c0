namespace Sim.Models.Cpu;

/// <summary>The core's VMX operation (Intel SDM Vol. 3C, chapter 23).</summary>
public enum VmxMode
{
    /// <summary>Not in VMX operation: the native machine.</summary>
    Off,

    /// <summary>VMX root operation: the hypervisor runs, in an exit handler.</summary>
    Root,

    /// <summary>VMX non-root operation: a guest runs; what exits is decided by the VM-execution controls.</summary>
    NonRoot,
}
