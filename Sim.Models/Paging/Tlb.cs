using Sim.Models.Hardware;
using Sim.Models.Memory;

namespace Sim.Models.Paging;

/// <summary>
/// One TLB array: set-associative translations from page numbers to page frames, for one or
/// two page sizes, tagged with the PCID they were made under (Intel SDM Vol. 3A 4.10.1). A
/// global entry matches under every PCID. Each entry keeps the rights and the dirty state of
/// its translation.
/// </summary>
public sealed class Tlb
{
    private const int PcidBits = 12;
    private const ulong GlobalBit = 1UL << PcidBits;
    private const ulong LargeBit = 1UL << (PcidBits + 1);
    private const int KeyShift = PcidBits + 2;

    private readonly SetAssociativeArray _entries;
    private readonly TlbEntry[] _payload;

    public Tlb(TlbGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        _entries = new SetAssociativeArray(geometry.Sets, geometry.Ways);
        _payload = new TlbEntry[_entries.Capacity];
    }

    /// <summary>The slot translating <paramref name="linearAddress"/> as a page of 2^<paramref name="pageShift"/> bytes under <paramref name="pcid"/>, or -1.</summary>
    public int Find(ulong linearAddress, int pageShift, ushort pcid)
    {
        ulong page = linearAddress >> pageShift;
        int set = _entries.SetOf(page);
        ulong sizeBit = pageShift == PageEntry.LargePageShift ? LargeBit : 0;
        int slot = _entries.Find(set, (page << KeyShift) | sizeBit | pcid);
        return slot >= 0 ? slot : _entries.Find(set, (page << KeyShift) | sizeBit | GlobalBit);
    }

    public TlbEntry At(int slot) => _payload[slot];

    public void Insert(ulong linearAddress, int pageShift, ushort pcid, in TlbEntry entry)
    {
        ulong page = linearAddress >> pageShift;
        ulong sizeBit = pageShift == PageEntry.LargePageShift ? LargeBit : 0;
        ulong tag = (page << KeyShift) | sizeBit | (entry.Global ? GlobalBit : pcid);
        int set = _entries.SetOf(page);
        int slot = _entries.Find(set, tag);
        if (slot < 0)
        {
            slot = _entries.Insert(set, tag, out _);
        }
        _payload[slot] = entry;
    }

    /// <summary>INVLPG: drops the translations of the page containing <paramref name="linearAddress"/> for <paramref name="pcid"/> and global ones, of either size.</summary>
    public void InvalidatePage(ulong linearAddress, ushort pcid)
    {
        foreach (int shift in new[] { PageEntry.SmallPageShift, PageEntry.LargePageShift })
        {
            ulong page = linearAddress >> shift;
            ulong sizeBit = shift == PageEntry.LargePageShift ? LargeBit : 0;
            int set = _entries.SetOf(page);
            _entries.Invalidate(set, (page << KeyShift) | sizeBit | pcid);
            _entries.Invalidate(set, (page << KeyShift) | sizeBit | GlobalBit);
        }
    }

    /// <summary>Drops non-global translations of <paramref name="pcid"/> (or of every PCID when null); with <paramref name="includeGlobal"/>, global ones too.</summary>
    public int Flush(ushort? pcid, bool includeGlobal)
    {
        return _entries.InvalidateWhere((tag, _) =>
        {
            bool global = (tag & GlobalBit) != 0;
            if (global)
            {
                return includeGlobal;
            }
            return pcid is null || (ushort)(tag & 0xFFF) == pcid;
        });
    }
}
