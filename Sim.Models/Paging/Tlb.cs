using Sim.Models.Hardware;
using Sim.Models.Memory;

namespace Sim.Models.Paging;

/// <summary>
/// One TLB array: set-associative translations from page numbers to page frames, for one or
/// two page sizes, tagged with the VPID and PCID they were made under (<see cref="TranslationTag"/>,
/// Intel SDM Vol. 3A 4.10.1, Vol. 3C 28.1). A global entry matches under every PCID of its VPID.
/// Each entry keeps the rights and the dirty state of its translation.
/// </summary>
public sealed class Tlb
{
    private const ulong TagMask = (1UL << TranslationTag.Bits) - 1;
    private const ulong GlobalBit = 1UL << TranslationTag.Bits;
    private const ulong LargeBit = 1UL << (TranslationTag.Bits + 1);
    private const int KeyShift = TranslationTag.Bits + 2;

    private readonly SetAssociativeArray _entries;
    private readonly TlbEntry[] _payload;

    public Tlb(TlbGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        _entries = new SetAssociativeArray(geometry.Sets, geometry.Ways);
        _payload = new TlbEntry[_entries.Capacity];
    }

    /// <summary>The slot translating <paramref name="linearAddress"/> as a page of 2^<paramref name="pageShift"/> bytes under <paramref name="tag"/>, or -1.</summary>
    public int Find(ulong linearAddress, int pageShift, TranslationTag tag)
    {
        ulong page = linearAddress >> pageShift;
        int set = _entries.SetOf(page);
        ulong sizeBit = pageShift == PageEntry.LargePageShift ? LargeBit : 0;
        int slot = _entries.Find(set, (page << KeyShift) | sizeBit | tag.Value);
        return slot >= 0 ? slot : _entries.Find(set, (page << KeyShift) | sizeBit | GlobalBit | tag.GlobalValue);
    }

    public TlbEntry At(int slot) => _payload[slot];

    public void Insert(ulong linearAddress, int pageShift, TranslationTag translationTag, in TlbEntry entry)
    {
        ulong page = linearAddress >> pageShift;
        ulong sizeBit = pageShift == PageEntry.LargePageShift ? LargeBit : 0;
        ulong tag = (page << KeyShift) | sizeBit | (entry.Global ? GlobalBit | translationTag.GlobalValue : translationTag.Value);
        int set = _entries.SetOf(page);
        int slot = _entries.Find(set, tag);
        if (slot < 0)
        {
            slot = _entries.Insert(set, tag, out _);
        }
        _payload[slot] = entry;
    }

    /// <summary>INVLPG: drops the translations of the page containing <paramref name="linearAddress"/> for <paramref name="tag"/> and the global ones of its VPID, of either size.</summary>
    public void InvalidatePage(ulong linearAddress, TranslationTag tag)
    {
        foreach (int shift in new[] { PageEntry.SmallPageShift, PageEntry.LargePageShift })
        {
            ulong page = linearAddress >> shift;
            ulong sizeBit = shift == PageEntry.LargePageShift ? LargeBit : 0;
            int set = _entries.SetOf(page);
            _entries.Invalidate(set, (page << KeyShift) | sizeBit | tag.Value);
            _entries.Invalidate(set, (page << KeyShift) | sizeBit | GlobalBit | tag.GlobalValue);
        }
    }

    /// <summary>
    /// Drops the non-global translations of VPID <paramref name="vpid"/> made under <paramref name="pcid"/>
    /// (or under every PCID when null); with <paramref name="includeGlobal"/>, that VPID's global ones too.
    /// </summary>
    public int Flush(byte vpid, ushort? pcid, bool includeGlobal)
    {
        return _entries.InvalidateWhere((key, _) =>
        {
            ulong tag = key & TagMask;
            if (TranslationTag.VpidOf(tag) != vpid)
            {
                return false;
            }
            if ((key & GlobalBit) != 0)
            {
                return includeGlobal;
            }
            return pcid is null || (tag & 0xFFF) == pcid;
        });
    }

    /// <summary>Drops every translation of every VPID (a VM entry or exit on a CPU without VPIDs).</summary>
    public int FlushAll() => _entries.InvalidateWhere((_, _) => true);
}
