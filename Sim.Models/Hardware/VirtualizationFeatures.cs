namespace Sim.Models.Hardware;

/// <summary>Which virtualization and address-space features a CPU generation (and its platform: the IOMMU is the chipset's) has.</summary>
/// <param name="PauseLoopExiting">The secondary VM-execution control "PAUSE-loop exiting" (SDM 3C 24.6.2) with its PLE_Gap and PLE_Window fields.</param>
public sealed record VirtualizationFeatures(
    bool Vmx,
    bool Ept,
    bool Vpid,
    bool Pcid,
    bool ApicVirtualization,
    bool PostedInterrupts,
    bool Iommu = false,
    bool PauseLoopExiting = false);
