namespace Sim.Models.Paging;

/// <summary>
/// The outcome of a page walk: the page found (base, size, rights, dirty state) or the fault,
/// and what the walk cost: memory references made and their cycles through the caches.
/// </summary>
public readonly record struct WalkResult(
    TranslationFault Fault,
    PageFaultErrorCode ErrorCode,
    ulong PageBase,
    int PageShift,
    WalkRights Rights,
    bool Global,
    int References,
    int Cycles);
