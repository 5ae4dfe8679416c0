namespace Sim.Models.Platform;

/// <summary>The medium of the machine's disk.</summary>
public enum DiskKind
{
    None,
    SolidState,
    Rotating,
}
