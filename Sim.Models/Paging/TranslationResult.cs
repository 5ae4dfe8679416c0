namespace Sim.Models.Paging;

/// <summary>
/// The outcome of translating one access: the physical address, or the fault and its error
/// code; the cycles the translation added to the access (0 for a first-level TLB hit, the STLB
/// penalty, or the walk's cycles) and whether a walk happened. An EPT violation carries the
/// guest-physical address that caused it.
/// </summary>
public readonly record struct TranslationResult(
    TranslationFault Fault,
    PageFaultErrorCode ErrorCode,
    ulong PhysicalAddress,
    int Cycles,
    bool Walked,
    ulong GuestPhysicalAddress = 0)
{
    public bool Succeeded => Fault == TranslationFault.None;
}
