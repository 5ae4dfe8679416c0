namespace Sim.Models.Paging;

/// <summary>
/// What a cached translation is tagged with (Intel SDM Vol. 3A 4.10.1 and Vol. 3C 28.1): the
/// virtual-processor identifier of the guest it was made for (VPID 0 is the host, VMX root mode)
/// and the process-context identifier it was made under. As one number: VPID in bits 19:12,
/// PCID in bits 11:0.
/// </summary>
/// <remarks>
/// Model: VPIDs are 16 bits in the SDM; the model keeps 8 (up to 255 virtual processors per host),
/// so that a tag and a 36-bit page number fit one 64-bit key.
/// </remarks>
public readonly record struct TranslationTag(byte Vpid, ushort Pcid)
{
    public const int PcidBits = 12;
    public const int Bits = PcidBits + 8;

    /// <summary>The host's tag with PCID 0.</summary>
    public static readonly TranslationTag Host = new(0, 0);

    public ulong Value => ((ulong)Vpid << PcidBits) | (Pcid & 0xFFFUL);

    /// <summary>The tag of a global translation in this VPID: global entries ignore the PCID, not the VPID.</summary>
    public ulong GlobalValue => (ulong)Vpid << PcidBits;

    public static byte VpidOf(ulong value) => (byte)(value >> PcidBits);
}
