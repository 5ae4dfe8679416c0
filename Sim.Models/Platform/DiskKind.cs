namespace Sim.Models.Platform;

/// <summary>The medium of the machine's disk.</summary>
public enum DiskKind
{
    None,

    /// <summary>A SATA flash SSD: the Intel X25-E (<see cref="Devices.SolidStateDisk"/>'s defaults).</summary>
    SolidState,

    Rotating,

    /// <summary>A current NVMe flash SSD's medium, the Intel DC P4500 (<see cref="Devices.SolidStateDisk.DcP4500"/>), behind the machine's disk interface.</summary>
    Nvme,
}
