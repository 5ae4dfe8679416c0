using Sim.Engine.Statistics;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Virtualization;

namespace Sim.Models.Tests.Virtualization;

public class ShadowPageTablesTests
{
    private const ulong Va = 0x0000_7F12_3456_7000;
    private const ulong DirectMap = 0xFFFF_8880_0000_0000;
    private const ulong HostBase = 32UL << 20;

    private sealed class Rig
    {
        public Rig(int maxRoots = 4, int unshadowAfterWrites = 0, bool unsync = false, bool prefetch = false)
        {
            Host = new PhysicalMemory(128UL << 20, reservedBytes: 64UL << 20); // shadow pages come from above the guest's backing
            Guest = new PhysicalMemory(16UL << 20);
            Space = new AddressSpaceBuilder(Guest);
            Data = Guest.AllocateFrame();
            Space.Map4K(Va, Data, PageEntry.User | PageEntry.Writable);
            // The guest's direct map: every guest frame, writable, at DirectMap + gpa.
            for (ulong pa = 0; pa < Guest.SizeBytes; pa += 1UL << 21)
            {
                Space.Map2M(DirectMap + pa, pa, PageEntry.Writable | PageEntry.Global);
            }
            Shadow = new ShadowPageTables(Host, Guest, HostBase, maxRoots, Stats.Group("shadow"), unshadowAfterWrites: unshadowAfterWrites,
                unsyncLeafTables: unsync, prefetch: prefetch);
            Root = Shadow.RootFor(Space.Pml4, new ShadowWork());
        }

        public StatRegistry Stats { get; } = new();

        public PhysicalMemory Host { get; }

        public PhysicalMemory Guest { get; }

        public AddressSpaceBuilder Space { get; }

        public ulong Data { get; }

        public ShadowPageTables Shadow { get; }

        public ulong Root { get; }

        public ShadowFault Fault(ulong va, MemoryAccessKind kind, bool user = true) => Shadow.Resolve(Space.Pml4, va, kind, user);

        public long Count(string statistic) => (long)Stats.Snapshot(default).Single(s => s.Statistic == statistic).Value;

        /// <summary>The guest entry that maps <paramref name="va"/> in its leaf table.</summary>
        public ulong LeafEntry(ulong va) => GuestTablesOf(va)[3] + ((ulong)PageEntry.Index(va, 0) * 8);

        /// <summary>The guest kernel's store to its own entry for <paramref name="va"/>, through its direct map, as the shadow MMU sees it: the fault it takes, if any, and the store.</summary>
        public ShadowFault? KernelWritesEntry(ulong va, ulong value)
        {
            ulong entry = LeafEntry(va);
            ShadowFault? fault = null;
            if ((ShadowLeaf(DirectMap + entry) & PageEntry.Writable) == 0)
            {
                fault = Fault(DirectMap + entry, MemoryAccessKind.Write, user: false);
            }
            if (fault is not { Kind: ShadowFaultKind.PageTableWrite })
            {
                Guest.WriteUInt64(entry, value); // the write went through (no exit once the table is out of sync)
            }
            return fault;
        }

        /// <summary>The shadow leaf for <paramref name="va"/>, read as the hardware would walk it.</summary>
        public ulong ShadowLeaf(ulong va)
        {
            ulong table = Root;
            for (int level = 3; level > 0; level--)
            {
                ulong e = Host.ReadUInt64(table + ((ulong)PageEntry.Index(va, level) * 8));
                if ((e & PageEntry.Present) == 0)
                {
                    return 0;
                }
                table = e & PageEntry.AddressMask;
            }
            return Host.ReadUInt64(table + ((ulong)PageEntry.Index(va, 0) * 8));
        }

        /// <summary>The guest frames of the guest's own tables on the path to <paramref name="va"/>.</summary>
        public ulong[] GuestTablesOf(ulong va)
        {
            var frames = new List<ulong>();
            ulong table = Space.Pml4;
            for (int level = 3; level >= 0; level--)
            {
                frames.Add(table);
                ulong e = Guest.ReadUInt64(table + ((ulong)PageEntry.Index(va, level) * 8));
                if ((e & PageEntry.PageSize) != 0 || level == 0)
                {
                    break;
                }
                table = e & PageEntry.AddressMask;
            }
            return [.. frames];
        }
    }

    [Fact]
    public void A_hidden_fault_fills_a_shadow_leaf_that_maps_the_guests_page_to_its_host_page()
    {
        var r = new Rig();
        ShadowFault f = r.Fault(Va + 8, MemoryAccessKind.Read);
        Assert.Equal(ShadowFaultKind.Fill, f.Kind);
        Assert.Equal(4, f.Work.GuestEntriesRead.Count);
        ulong leaf = r.ShadowLeaf(Va);
        Assert.Equal(HostBase + r.Data, leaf & PageEntry.AddressMask);
        Assert.NotEqual(0UL, leaf & PageEntry.User);
        Assert.Equal(0UL, leaf & PageEntry.Writable); // a read: writable only once the guest's entry is dirty
        Assert.NotEqual(0UL, r.Guest.ReadUInt64(r.GuestTablesOf(Va)[3] + ((ulong)PageEntry.Index(Va, 0) * 8)) & PageEntry.Accessed);
        Assert.Equal(ShadowFaultKind.Fill, r.Fault(Va, MemoryAccessKind.Write).Kind);
        Assert.NotEqual(0UL, r.ShadowLeaf(Va) & PageEntry.Writable);
    }

    [Fact]
    public void A_table_written_three_times_with_no_walk_between_is_unshadowed_but_one_in_use_stays_traced()
    {
        var r = new Rig(unshadowAfterWrites: 3);
        r.Fault(Va, MemoryAccessKind.Read);
        ulong leafTable = r.GuestTablesOf(Va)[3];
        // Writes interleaved with walks through the table: a table in use, traced every time.
        for (int i = 0; i < 5; i++)
        {
            r.Shadow.TableWritten(leafTable + 0x100, new ShadowWork());
            r.Fault(Va, MemoryAccessKind.Read);
        }
        Assert.True(r.Shadow.IsProtected(leafTable));
        // Three writes with nothing using the table between (the guest zeroing or reusing the frame): no longer shadowed.
        r.Shadow.TableWritten(leafTable + 0x100, new ShadowWork());
        r.Shadow.TableWritten(leafTable + 0x200, new ShadowWork());
        IReadOnlyList<ulong> cleared = r.Shadow.TableWritten(leafTable + 0x300, new ShadowWork());
        Assert.False(r.Shadow.IsProtected(leafTable));
        Assert.Equal(0UL, r.ShadowLeaf(Va)); // the parent's link to the dropped shadow page is among the entries cleared
        Assert.NotEmpty(cleared);
        Assert.Equal(1, r.Stats.Snapshot(Sim.Engine.Time.Tick.Zero).Single(x => x.Statistic == "unshadowed").Value);
        // The next access shadows it again.
        Assert.Equal(ShadowFaultKind.Fill, r.Fault(Va, MemoryAccessKind.Read).Kind);
        Assert.True(r.Shadow.IsProtected(leafTable));
    }

    [Fact]
    public void A_flooded_root_goes_with_its_tree_unless_it_is_the_address_space_in_use()
    {
        var r = new Rig(unshadowAfterWrites: 3);
        r.Fault(Va, MemoryAccessKind.Read);
        var other = new AddressSpaceBuilder(r.Guest);
        other.Map4K(Va, r.Guest.AllocateFrame(), PageEntry.User | PageEntry.Writable);
        r.Shadow.RootFor(other.Pml4, new ShadowWork()); // the other address space is now in use; the first one's tree stays cached
        for (int i = 0; i < 3; i++)
        {
            r.Shadow.TableWritten(other.Pml4 + (ulong)(8 * i), new ShadowWork()); // the root in use: traced, never dropped
            r.Shadow.TableWritten(r.Space.Pml4 + (ulong)(8 * i), new ShadowWork()); // an exited process's PML4 frame being reused
        }
        Assert.True(r.Shadow.IsProtected(other.Pml4));
        Assert.False(r.Shadow.IsProtected(r.Space.Pml4));
        Assert.All(r.GuestTablesOf(Va), t => Assert.False(r.Shadow.IsProtected(t)));
    }

    [Fact]
    public void Exactly_the_guest_page_table_pages_with_a_shadow_are_write_protected()
    {
        var r = new Rig();
        r.Fault(Va, MemoryAccessKind.Read);
        ulong[] tables = r.GuestTablesOf(Va);
        Assert.All(tables, t => Assert.True(r.Shadow.IsProtected(t)));
        Assert.Equal(tables.Length, r.Shadow.ProtectedFrames);
        Assert.False(r.Shadow.IsProtected(r.Data));
        // Through the direct map, the guest may read its page table, but a write is caught.
        ulong pteAlias = DirectMap + tables[3];
        Assert.Equal(ShadowFaultKind.Fill, r.Fault(pteAlias, MemoryAccessKind.Read, user: false).Kind);
        Assert.Equal(0UL, r.ShadowLeaf(pteAlias) & PageEntry.Writable);
        ShadowFault write = r.Fault(pteAlias + 0x38, MemoryAccessKind.Write, user: false);
        Assert.Equal(ShadowFaultKind.PageTableWrite, write.Kind);
        Assert.Equal(tables[3] + 0x38, write.WrittenGuestPhysical);
        // A data page the guest may write is mapped writable through the same direct map.
        Assert.Equal(ShadowFaultKind.Fill, r.Fault(DirectMap + r.Data, MemoryAccessKind.Write, user: false).Kind);
        Assert.NotEqual(0UL, r.ShadowLeaf(DirectMap + r.Data) & PageEntry.Writable);
    }

    [Fact]
    public void A_page_becoming_a_page_table_loses_its_writable_shadow_mappings()
    {
        var r = new Rig();
        ulong future = r.Guest.AllocateFrame(); // written through the direct map first, as data
        r.Fault(DirectMap + future, MemoryAccessKind.Write, user: false);
        Assert.NotEqual(0UL, r.ShadowLeaf(DirectMap + future) & PageEntry.Writable);
        // The guest makes it the page table of another region, and touches that region.
        const ulong Other = 0x0000_7F12_3480_0000;
        r.Guest.WriteUInt64(r.GuestTablesOf(Va)[2] + ((ulong)PageEntry.Index(Other, 1) * 8), future | PageEntry.Present | PageEntry.Writable | PageEntry.User);
        r.Guest.WriteUInt64(future + ((ulong)PageEntry.Index(Other, 0) * 8), r.Data | PageEntry.Present | PageEntry.User);
        Assert.Equal(ShadowFaultKind.Fill, r.Fault(Other, MemoryAccessKind.Read).Kind);
        Assert.True(r.Shadow.IsProtected(future));
        Assert.Equal(0UL, r.ShadowLeaf(DirectMap + future) & PageEntry.Writable);
        Assert.True(r.Shadow.ProtectionsChanged); // the hypervisor must flush the guest's TLB entries
    }

    [Fact]
    public void A_fault_the_guests_tables_would_raise_goes_to_the_guest_with_the_guests_error_code()
    {
        var r = new Rig();
        ShadowFault missing = r.Fault(Va + (1UL << 30), MemoryAccessKind.Read);
        Assert.Equal(ShadowFaultKind.GuestFault, missing.Kind);
        Assert.Equal(PageFaultErrorCode.User, missing.GuestErrorCode);
        r.Space.Map4K(Va + 4096, r.Guest.AllocateFrame(), PageEntry.User); // read-only
        ShadowFault cow = r.Fault(Va + 4096, MemoryAccessKind.Write);
        Assert.Equal(ShadowFaultKind.GuestFault, cow.Kind);
        Assert.Equal(PageFaultErrorCode.Protection | PageFaultErrorCode.Write | PageFaultErrorCode.User, cow.GuestErrorCode);
    }

    [Fact]
    public void A_guest_page_table_write_clears_the_shadow_entries_made_from_that_entry()
    {
        var r = new Rig();
        r.Fault(Va, MemoryAccessKind.Read);
        ulong pte = r.GuestTablesOf(Va)[3] + ((ulong)PageEntry.Index(Va, 0) * 8);
        IReadOnlyList<ulong> cleared = r.Shadow.TableWritten(pte, new ShadowWork());
        Assert.Single(cleared);
        Assert.Equal(0UL, r.ShadowLeaf(Va));
    }

    [Fact]
    public void Rewriting_an_upper_table_drops_the_shadow_tables_below_it()
    {
        var r = new Rig();
        r.Fault(Va, MemoryAccessKind.Read);
        ulong[] tables = r.GuestTablesOf(Va);
        Assert.Equal(4, r.Shadow.ProtectedFrames);
        r.Shadow.TableWritten(tables[0] + ((ulong)PageEntry.Index(Va, 3) * 8), new ShadowWork()); // the guest rewrote its PML4 entry
        Assert.Equal(0UL, r.ShadowLeaf(Va));
        Assert.Equal(1, r.Shadow.ProtectedFrames); // only the PML4 is still shadowed: the PDPT, PD and PT went with their shadows
        Assert.Equal(ShadowFaultKind.Fill, r.Fault(Va, MemoryAccessKind.Read).Kind); // and they come back on the next access
        Assert.Equal(4, r.Shadow.ProtectedFrames);
    }

    [Fact]
    public void The_cache_keeps_the_most_recent_address_spaces_and_drops_the_oldest()
    {
        var r = new Rig(maxRoots: 2);
        r.Fault(Va, MemoryAccessKind.Read);
        Assert.True(r.Shadow.IsProtected(r.GuestTablesOf(Va)[1]));
        ulong[] spaces = [.. Enumerable.Range(0, 2).Select(_ => new AddressSpaceBuilder(r.Guest).Pml4)];
        var first = new ShadowWork();
        r.Shadow.RootFor(spaces[0], first);
        Assert.Single(first.ShadowPagesMade);
        r.Shadow.RootFor(spaces[1], new ShadowWork()); // evicts the rig's own space, the least recently used
        Assert.Equal(1, r.Stats.Snapshot(default).Single(s => s.Statistic == "evictions").Value);
        var again = new ShadowWork();
        r.Shadow.RootFor(spaces[0], again);
        Assert.Empty(again.ShadowPagesMade); // still cached
        Assert.False(r.Shadow.IsProtected(r.GuestTablesOf(Va)[1])); // the evicted tree's tables are no longer protected
    }

    [Fact]
    public void An_out_of_sync_leaf_table_takes_writes_without_a_fault_and_INVLPG_rewrites_the_entry_from_the_guests()
    {
        var r = new Rig(unsync: true);
        r.Fault(Va, MemoryAccessKind.Read);
        ulong leafTable = r.GuestTablesOf(Va)[3];
        Assert.True(r.Shadow.IsProtected(leafTable));
        ulong other = r.Guest.AllocateFrame();
        ulong remapped = other | PageEntry.Present | PageEntry.Writable | PageEntry.User | PageEntry.Accessed;

        ShadowFault first = r.KernelWritesEntry(Va, remapped)!; // the first write faults, and lets the table out of sync instead of being emulated
        Assert.Equal(ShadowFaultKind.Fill, first.Kind);
        Assert.Equal(1, first.Work.TablesUnsynced);
        Assert.False(r.Shadow.IsProtected(leafTable));
        Assert.Equal(1, r.Shadow.OutOfSyncFrames);
        Assert.NotEqual(0UL, r.ShadowLeaf(DirectMap + leafTable) & PageEntry.Writable);
        Assert.Null(r.KernelWritesEntry(Va, remapped)); // later writes go through with no fault at all
        Assert.Equal(0, r.Count("page_table_writes"));
        Assert.Equal(HostBase + r.Data, r.ShadowLeaf(Va) & PageEntry.AddressMask); // stale until the guest invalidates, as a TLB entry may be

        var invlpg = new ShadowWork();
        r.Shadow.Invalidate(r.Space.Pml4, Va, invlpg);
        Assert.Equal(HostBase + other, r.ShadowLeaf(Va) & PageEntry.AddressMask); // rewritten from the guest's entry
        Assert.Equal(4, invlpg.ShadowEntriesRead.Count);
        Assert.Equal(4, invlpg.GuestEntriesRead.Count); // the software walk that read the guest's entry
        Assert.Equal(ShadowFaultKind.PageTableWrite, r.Fault(DirectMap + r.GuestTablesOf(Va)[2], MemoryAccessKind.Write, user: false).Kind); // a higher-level table stays traced
    }

    [Fact]
    public void A_CR3_load_brings_the_out_of_sync_tables_it_reaches_back_in_sync_and_traced()
    {
        var r = new Rig(unsync: true);
        r.Fault(Va, MemoryAccessKind.Read);
        ulong leafTable = r.GuestTablesOf(Va)[3];
        r.KernelWritesEntry(Va, 0); // unmapped, out of sync: the shadow still maps it
        Assert.NotEqual(0UL, r.ShadowLeaf(Va));

        var load = new ShadowWork();
        r.Shadow.RootFor(r.Space.Pml4, load);
        Assert.Equal(1, load.TablesResynced);
        Assert.Equal(0, r.Shadow.OutOfSyncFrames);
        Assert.Equal(64, load.ShadowEntriesRead.Count); // the leaf table's shadow read whole, line by line
        Assert.Equal(0UL, r.ShadowLeaf(Va)); // the entry the guest cleared is gone
        Assert.True(r.Shadow.IsProtected(leafTable));
        Assert.Equal(0UL, r.ShadowLeaf(DirectMap + leafTable) & PageEntry.Writable);
        Assert.True(r.Shadow.ProtectionsChanged); // the guest's TLB may hold the table writable: flushed
        Assert.Equal(ShadowFaultKind.Fill, r.KernelWritesEntry(Va, r.Data | PageEntry.Present | PageEntry.User)!.Kind); // and the next write lets it out again
        Assert.Equal(2, r.Count("tables_unsynced"));
        Assert.Equal(1, r.Count("tables_resynced"));
    }

    [Fact]
    public void Without_unsync_every_leaf_table_write_is_emulated_and_INVLPG_leaves_an_exact_shadow_alone()
    {
        var r = new Rig();
        r.Fault(Va, MemoryAccessKind.Read);
        Assert.Equal(ShadowFaultKind.PageTableWrite, r.KernelWritesEntry(Va, 0)!.Kind);
        Assert.Equal(ShadowFaultKind.PageTableWrite, r.KernelWritesEntry(Va, 0)!.Kind);
        r.Fault(Va, MemoryAccessKind.Read); // a read of a page unmapped is the guest's own fault
        r.Guest.WriteUInt64(r.LeafEntry(Va), r.Data | PageEntry.Present | PageEntry.User); // (as the emulated write would)
        r.Fault(Va, MemoryAccessKind.Read);
        ulong leaf = r.ShadowLeaf(Va);
        var invlpg = new ShadowWork();
        r.Shadow.Invalidate(r.Space.Pml4, Va, invlpg);
        Assert.Equal(leaf, r.ShadowLeaf(Va));
        Assert.Empty(invlpg.ShadowEntriesWritten);
    }

    [Fact]
    public void A_hidden_fault_prefetches_its_group_of_eight_until_an_entry_is_not_accessed()
    {
        var r = new Rig(prefetch: true);
        ulong group = Va & ~((8UL << PageEntry.SmallPageShift) - 1); // Va is the last of its group of 8
        for (int i = 0; i < 7; i++)
        {
            r.Space.Map4K(group + ((ulong)i << PageEntry.SmallPageShift), r.Guest.AllocateFrame(),
                PageEntry.User | PageEntry.Writable | (i == 5 ? 0 : PageEntry.Accessed) | (i == 2 ? PageEntry.Dirty : 0));
        }
        ShadowFault f = r.Fault(group + (1UL << PageEntry.SmallPageShift), MemoryAccessKind.Read);
        Assert.Equal(4, f.Work.EntriesPrefetched); // 0, 2, 3 and 4 around the faulting 1; 5 is not accessed: the prefetch stops there
        Assert.NotEqual(0UL, r.ShadowLeaf(group));
        Assert.NotEqual(0UL, r.ShadowLeaf(group + (4UL << PageEntry.SmallPageShift)));
        Assert.Equal(0UL, r.ShadowLeaf(group + (5UL << PageEntry.SmallPageShift)));
        Assert.Equal(0UL, r.ShadowLeaf(group + (6UL << PageEntry.SmallPageShift)));
        Assert.NotEqual(0UL, r.ShadowLeaf(group + (2UL << PageEntry.SmallPageShift)) & PageEntry.Writable); // dirty in the guest: writable
        Assert.Equal(0UL, r.ShadowLeaf(group) & PageEntry.Writable); // clean: a write must fault to set the guest's dirty bit
        Assert.Equal(5, f.Work.GuestEntriesRead.Count); // the walk's 4 and the group's line
    }
}
