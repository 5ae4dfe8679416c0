namespace Sim.Models.Cpu;

/// <summary>What VT-x does when a guest in VMX non-root mode executes an instruction.</summary>
public enum VtxBehaviour
{
    AlwaysExits,
    ExitsUnderControl,
    NeverExits,
}
