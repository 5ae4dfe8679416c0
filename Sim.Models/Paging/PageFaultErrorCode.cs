namespace Sim.Models.Paging;

/// <summary>The page-fault error code pushed by #PF (Intel SDM Vol. 3A, Figure 4-12).</summary>
[Flags]
public enum PageFaultErrorCode
{
    /// <summary>Clear: the page was not present. Set: a protection violation.</summary>
    Protection = 1 << 0,

    /// <summary>The access was a write.</summary>
    Write = 1 << 1,

    /// <summary>The access came from user mode (CPL 3).</summary>
    User = 1 << 2,

    /// <summary>A reserved bit was set in a paging-structure entry.</summary>
    ReservedBit = 1 << 3,

    /// <summary>The access was an instruction fetch.</summary>
    InstructionFetch = 1 << 4,
}
