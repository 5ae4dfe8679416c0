namespace Sim.Models.Paging;

/// <summary>Why a translation failed, if it did.</summary>
public enum TranslationFault
{
    None,

    /// <summary>#PF, with an error code.</summary>
    PageFault,

    /// <summary>#GP: the linear address is not canonical; no page walk happens.</summary>
    GeneralProtection,
}
