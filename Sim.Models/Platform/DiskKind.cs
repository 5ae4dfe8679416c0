namespace Sim.Models.Platform;

/// <summary>The medium of the machine's disk on the primary ATA channel.</summary>
public enum DiskKind
{
    None,
    SolidState,
    Rotating,
}
