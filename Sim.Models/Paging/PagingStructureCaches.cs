using Sim.Engine.Statistics;
using Sim.Models.Hardware;
using Sim.Models.Memory;

namespace Sim.Models.Paging;

/// <summary>
/// The paging-structure caches of Intel SDM Vol. 3A 4.10.3: a PML4 cache (keyed by linear
/// address bits 47:39), a PDPTE cache (47:30) and a PDE cache (47:21), each entry holding the
/// physical address of the next table and the rights accumulated so far, tagged by VPID and
/// PCID (<see cref="TranslationTag"/>). A hit
/// lets the walker skip the upper levels. Entries are made only from present entries whose
/// accessed bit is set (the walker sets it first), as the SDM requires.
/// </summary>
public sealed class PagingStructureCaches
{
    private readonly Level[] _levels; // index 0: PDE cache (level 1), 1: PDPTE (level 2), 2: PML4 (level 3)
    private readonly VectorCounter<PagingStructureCacheLevel> _hits;

    public PagingStructureCaches(PagingStructureCacheGeometry geometry, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(stats);
        geometry.Validate();
        _levels = [new Level(geometry.PdeEntries), new Level(geometry.PdptEntries), new Level(geometry.Pml4Entries)];
        _hits = stats.VectorCounter<PagingStructureCacheLevel>("hits", "count", "walks that started below the root thanks to a cached entry");
    }

    /// <summary>
    /// The deepest cached entry for <paramref name="linearAddress"/>: the table level the walk may
    /// start at (2, 1 or 0; 3 when nothing is cached), that table's physical address and the rights so far.
    /// </summary>
    public (int StartLevel, ulong Table, WalkRights Rights) Lookup(ulong linearAddress, TranslationTag tag)
    {
        for (int i = 0; i < _levels.Length; i++)
        {
            Level cache = _levels[i];
            if (cache.Array is null)
            {
                continue;
            }
            int slot = cache.Array.Find(0, Key(linearAddress, i + 1, tag));
            if (slot >= 0)
            {
                _hits.Increment((PagingStructureCacheLevel)i);
                return (i, cache.Tables[slot], cache.Rights[slot]);
            }
        }
        return (3, 0, WalkRights.All);
    }

    /// <summary>Caches the entry of <paramref name="level"/> (3, 2 or 1) just read: it points at <paramref name="nextTable"/>.</summary>
    public void Fill(ulong linearAddress, TranslationTag tag, int level, ulong nextTable, WalkRights rights)
    {
        Level cache = _levels[level - 1];
        if (cache.Array is null)
        {
            return;
        }
        ulong key = Key(linearAddress, level, tag);
        int slot = cache.Array.Find(0, key);
        if (slot < 0)
        {
            slot = cache.Array.Insert(0, key, out _);
        }
        cache.Tables[slot] = nextTable;
        cache.Rights[slot] = rights;
    }

    /// <summary>Drops every entry of VPID <paramref name="vpid"/> made under <paramref name="pcid"/> (MOV CR3, INVLPG), or under every PCID when null.</summary>
    public void Invalidate(byte vpid, ushort? pcid)
    {
        foreach (Level cache in _levels)
        {
            cache.Array?.InvalidateWhere((key, _) =>
            {
                ulong tag = key & ((1UL << TranslationTag.Bits) - 1);
                return TranslationTag.VpidOf(tag) == vpid && (pcid is null || (tag & 0xFFF) == pcid);
            });
        }
    }

    /// <summary>Drops every entry (a VM entry or exit without VPIDs, INVEPT).</summary>
    public void InvalidateAll()
    {
        foreach (Level cache in _levels)
        {
            cache.Array?.InvalidateWhere((_, _) => true);
        }
    }

    // The linear-address bits above the table level, then the translation tag.
    private static ulong Key(ulong linearAddress, int level, TranslationTag tag) =>
        (((linearAddress & 0x0000_FFFF_FFFF_FFFFUL) >> (PageEntry.SmallPageShift + (9 * level))) << TranslationTag.Bits) | tag.Value;

    private sealed class Level
    {
        public Level(int entries)
        {
            if (entries > 0)
            {
                Array = new SetAssociativeArray(1, entries);
                Tables = new ulong[entries];
                Rights = new WalkRights[entries];
            }
            else
            {
                Tables = [];
                Rights = [];
            }
        }

        public SetAssociativeArray? Array { get; }

        public ulong[] Tables { get; }

        public WalkRights[] Rights { get; }
    }
}
