namespace Sim.Models.Paging;

/// <summary>Why a translation failed, if it did.</summary>
public enum TranslationFault
{
    None,

    /// <summary>#PF, with an error code.</summary>
    PageFault,

    /// <summary>#GP: the linear address is not canonical; no page walk happens.</summary>
    GeneralProtection,

    /// <summary>A guest's guest-physical address has no EPT mapping with the permission the access needs: a VM exit, not a guest exception.</summary>
    EptViolation,
}
