using Sim.Models.Paging;

namespace Sim.Models.Virtualization;

/// <summary>What a page fault of a guest under shadow paging turns out to be, once the hypervisor has walked the guest's tables.</summary>
public enum ShadowFaultKind
{
    /// <summary>A hidden fault: the guest's tables allow the access, the shadow tables lacked the entry; filled, and the access retried.</summary>
    Fill,

    /// <summary>A true fault: the guest's own tables forbid the access; the page fault is injected into the guest.</summary>
    GuestFault,

    /// <summary>A write to a write-protected guest page-table page: the hypervisor emulates the write and updates its shadow.</summary>
    PageTableWrite,

    /// <summary>A write to a guest frame holding code a binary translator translated: its translations are dropped and the write retried.</summary>
    CodeWrite,
}

/// <summary>
/// The outcome of a shadow page fault: its kind, the error code the guest sees for a true fault,
/// the guest-physical address written for a page-table (or translated code's) write, and the memory the hypervisor
/// touched (<see cref="ShadowWork"/>), for its handler's cost.
/// </summary>
public sealed record ShadowFault(ShadowFaultKind Kind, PageFaultErrorCode GuestErrorCode, ulong WrittenGuestPhysical, ShadowWork Work);
