namespace Sim.Models.Hardware;

/// <summary>Which virtualization and address-space features a CPU generation (and its platform: the IOMMU is the chipset's) has.</summary>
/// <param name="TprShadow">The VM-execution control "use TPR shadow" with the TPR threshold (SDM 3C 24.6.8, 29.1.2): a guest's MOV to CR8 writes the virtual-APIC page without an exit, unless it drops the priority below the threshold. Present from Merom on (the VMX capability MSRs decoded in docs/calibration.md's table of which generation brought which feature); whether the Pentium 4 6x2 had it no source read here says, so its profile has none.</param>
/// <param name="PauseLoopExiting">The secondary VM-execution control "PAUSE-loop exiting" (SDM 3C 24.6.2) with its PLE_Gap and PLE_Window fields.</param>
public sealed record VirtualizationFeatures(
    bool Vmx,
    bool Ept,
    bool Vpid,
    bool Pcid,
    bool ApicVirtualization,
    bool PostedInterrupts,
    bool Iommu = false,
    bool PauseLoopExiting = false,
    bool TprShadow = false);
