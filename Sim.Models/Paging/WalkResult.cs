namespace Sim.Models.Paging;

/// <summary>
/// The outcome of a page walk: the page found (base, size, rights, dirty state) or the fault,
/// and what the walk cost: memory references made and their cycles through the caches. For an
/// EPT violation, <see cref="GuestPhysicalAddress"/> is the guest-physical address that had no mapping.
/// </summary>
public readonly record struct WalkResult(
    TranslationFault Fault,
    PageFaultErrorCode ErrorCode,
    ulong PageBase,
    int PageShift,
    WalkRights Rights,
    bool Global,
    int References,
    int Cycles,
    ulong GuestPhysicalAddress = 0);
