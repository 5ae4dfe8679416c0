namespace Sim.Models.Hardware;

/// <summary>Which virtualization and address-space features a CPU generation (and its platform: the IOMMU is the chipset's) has.</summary>
public sealed record VirtualizationFeatures(
    bool Vmx,
    bool Ept,
    bool Vpid,
    bool Pcid,
    bool ApicVirtualization,
    bool PostedInterrupts,
    bool Iommu = false);
