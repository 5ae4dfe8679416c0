using Sim.Engine.Statistics;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Virtualization;

/// <summary>
/// A hypervisor's shadow page tables (the technique of VMware's and Xen's classic monitors, and
/// KVM's shadow MMU): for each guest address space (guest CR3), a tree of real x86-64 tables in
/// host memory that maps the guest's linear addresses straight to host-physical pages, and that
/// the hardware walks in place of the guest's own tables. Shadow entries are made lazily, on the
/// hidden page faults their absence causes, from the guest's entries read in software. Every
/// guest page-table page that has a shadow is write-protected in the shadows, so the guest's
/// writes to its tables fault and are emulated, and the shadows updated. A cache keeps the
/// shadows of the most recently used guest address spaces across context switches.
/// </summary>
/// <remarks>
/// Model: each shadowed address space has its own tree (no sharing of shadow pages between
/// roots, so the kernel half is shadowed anew in each); shadows are made with 4 KiB pages only
/// (a guest 2 MiB page is shadowed page by page, as a shadow MMU must when the large page holds
/// write-protected frames); a guest page-table write clears the shadow entry it affects (the next
/// access refills it) rather than updating it in place; the guest's accessed and dirty bits are
/// set when the hypervisor fills a shadow entry (dirty on a write), and a shadow entry is made
/// writable only on a write or when the guest's entry is already dirty, as shadow MMUs do to
/// keep the guest's dirty bits true. Under a software monitor the guest kernel runs at CPL 3, so
/// its pages are user-accessible in the shadows: guest user code could reach guest kernel memory
/// (real monitors kept separate shadows for the guest's user and kernel modes; this one does not).
/// <para>
/// Two mechanisms of KVM's shadow MMU (arch/x86/kvm/mmu/mmu.c and paging_tmpl.h) are options:
/// <b>out-of-sync leaf tables</b> (<c>unsyncLeafTables</c>): a guest write to a page table that is
/// shadowed only as a leaf table (level 1) does not exit once its frame has been let out of sync
/// (mmu_try_to_unsync_pages, kvm_unsync_page); a frame shadowed at a higher level stays
/// write-protected. An out-of-sync table is brought back in sync, every present shadow entry
/// checked against the guest's entry and the frame write-protected again, when a CR3 load reaches
/// it (kvm_mmu_sync_roots, mmu_sync_children, FNAME(sync_page)) or when the guest uses it as a
/// higher-level table; an INVLPG rewrites the one shadow entry of an out-of-sync table from the
/// guest's entry (FNAME(invlpg), FNAME(update_pte)). Where KVM's sync_page rewrites a changed
/// entry in place, the model clears it and the next access refills it. And <b>prefetch</b>
/// (<c>prefetch</c>): a hidden fault on a guest 4 KiB page also fills the not-present shadow
/// entries of its aligned group of 8 (PTE_PREFETCH_NUM) from the guest's entries, stopping at the
/// first that is not present or not accessed (FNAME(pte_prefetch), FNAME(prefetch_gpte)); the
/// group's 64 bytes are read at once, as FNAME(gpte_changed) reads them.
/// </para>
/// <para>
/// A write-protected table's shadow is exact (every guest write to it is traced), so an INVLPG
/// leaves its shadow entry alone, as KVM's FNAME(invlpg) does for a table in sync.
/// </para>
/// </remarks>
public sealed class ShadowPageTables
{
    private readonly PhysicalMemory _host;
    private readonly PhysicalMemory _guest;
    private readonly ulong _hostBase;
    private readonly LinkedList<Root> _roots = []; // most recently used first
    private readonly Dictionary<ulong, int> _protected = []; // guest frame -> shadow pages shadowing it (it is a guest page-table page)
    private readonly Dictionary<ulong, List<(Root Root, ulong Page)>> _shadowsOf = []; // guest table frame -> the shadow pages of it
    private readonly Dictionary<ulong, List<ulong>> _mappings = []; // guest frame -> shadow leaf entries that mapped it (checked before use)
    private readonly Counter _fills;
    private readonly Counter _guestFaults;
    private readonly Counter _tableWrites;
    private readonly Counter _rootHits;
    private readonly Counter _rootMisses;
    private readonly Counter _evictions;
    private readonly Counter _pagesMade;
    private readonly Action<ulong>? _prepareRoot;
    private readonly bool _kernelAtUserLevel;
    private readonly int _unshadowAfterWrites;
    private readonly Dictionary<ulong, int> _writesSinceUse = []; // guest table frame -> emulated writes since a walk last went through it
    private readonly Counter _unshadowed;
    private readonly bool _unsyncLeaves;
    private readonly bool _prefetch;
    private readonly SortedSet<ulong> _outOfSync = []; // guest leaf-table frames let out of sync: not write-protected (sorted: synced in frame order)
    private readonly Counter? _unsynced;
    private readonly Counter? _resynced;
    private readonly Counter? _prefetched;

    /// <param name="host">Host memory, where the shadow tables are made.</param>
    /// <param name="guest">The guest's memory (its tables, by guest-physical address).</param>
    /// <param name="hostBase">The host-physical address of guest-physical 0.</param>
    /// <param name="maxRoots">How many guest address spaces keep their shadows at once.</param>
    /// <param name="prepareRoot">Called with each new shadow root: a monitor that lives in the guest's address space maps itself there.</param>
    /// <param name="kernelAtUserLevel">The guest kernel runs at CPL 3 (a software monitor): its pages are user-accessible in the shadows.</param>
    /// <param name="unshadowAfterWrites">
    /// Write-flood detection: a guest table page written this many times with no walk through it in
    /// between stops being shadowed (its shadow pages dropped, its frame no longer write-protected),
    /// as KVM's shadow MMU zaps a flooded shadow page after 3 writes (detect_write_flooding in
    /// arch/x86/kvm/mmu/mmu.c); 0 never unshadows, tracing every write as VMware's 2006 monitors did.
    /// </param>
    /// <param name="unsyncLeafTables">Out-of-sync leaf tables, as KVM's shadow MMU (remarks).</param>
    /// <param name="prefetch">Prefetch of the shadow entries around a hidden fault, as KVM's shadow MMU (remarks).</param>
    public ShadowPageTables(PhysicalMemory host, PhysicalMemory guest, ulong hostBase, int maxRoots, StatGroup stats,
        Action<ulong>? prepareRoot = null, bool kernelAtUserLevel = false, int unshadowAfterWrites = 0, bool unsyncLeafTables = false, bool prefetch = false)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(guest);
        ArgumentNullException.ThrowIfNull(stats);
        if (maxRoots < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRoots), maxRoots, "The shadow cache holds at least one address space.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(unshadowAfterWrites);
        (_host, _guest, _hostBase, MaxRoots, _prepareRoot, _kernelAtUserLevel, _unshadowAfterWrites) =
            (host, guest, hostBase, maxRoots, prepareRoot, kernelAtUserLevel, unshadowAfterWrites);
        _fills = stats.Counter("hidden_faults", "count", "page faults the guest never saw: a shadow entry was missing and was filled");
        _guestFaults = stats.Counter("guest_faults", "count", "true page faults, injected into the guest");
        _tableWrites = stats.Counter("page_table_writes", "count", "guest writes to its write-protected page tables, emulated");
        _rootHits = stats.Counter("cr3_cache_hits", "count", "guest CR3 loads whose shadow was in the cache");
        _rootMisses = stats.Counter("cr3_cache_misses", "count", "guest CR3 loads that needed a new shadow root");
        _evictions = stats.Counter("evictions", "count", "shadow trees dropped to make room in the cache");
        _pagesMade = stats.Counter("pages_made", "count", "shadow page-table pages made");
        _unshadowed = stats.Counter("unshadowed", "count", "guest table pages unshadowed after repeated writes with no use between (write-flood detection)");
        (_unsyncLeaves, _prefetch) = (unsyncLeafTables, prefetch);
        if (unsyncLeafTables)
        {
            _unsynced = stats.Counter("tables_unsynced", "count", "guest leaf tables let out of sync at a write: their later writes do not exit");
            _resynced = stats.Counter("tables_resynced", "count", "out-of-sync tables brought back in sync (at a CR3 load, or used as a higher-level table) and write-protected again");
        }
        if (prefetch)
        {
            _prefetched = stats.Counter("entries_prefetched", "count", "shadow entries filled ahead of a fault from the guest entries of the faulting one's group of 8");
        }
    }

    public int MaxRoots { get; }

    /// <summary>Guest frames currently write-protected because they hold guest page tables.</summary>
    public int ProtectedFrames => _protected.Count;

    /// <summary>Whether guest-physical frame <paramref name="gpa"/> is write-protected as a guest page-table page (shadowed, and not out of sync).</summary>
    public bool IsProtected(ulong gpa) => WriteProtected(gpa >> PageEntry.SmallPageShift);

    /// <summary>Guest leaf-table frames let out of sync: their writes do not exit.</summary>
    public int OutOfSyncFrames => _outOfSync.Count;

    private bool WriteProtected(ulong frame) => (_protected.ContainsKey(frame) && !_outOfSync.Contains(frame)) || _code.Contains(frame);

    private readonly HashSet<ulong> _code = []; // guest frames holding code a binary translator translated

    /// <summary>
    /// A binary translator translated code in the guest frame at <paramref name="gpa"/>: the frame is
    /// traced as a page table is (its shadow mappings lose their write right), so that a write to
    /// the code faults (<see cref="ShadowFaultKind.CodeWrite"/>) and the translations can be dropped.
    /// </summary>
    public void TraceCode(ulong gpa)
    {
        ulong frame = gpa >> PageEntry.SmallPageShift;
        if (_code.Add(frame) && !_protected.ContainsKey(frame))
        {
            RemoveWriteRight(frame);
        }
    }

    /// <summary>The translations of the code frame at <paramref name="gpa"/> are gone: writes to it no longer fault for them.</summary>
    public void UntraceCode(ulong gpa) => _code.Remove(gpa >> PageEntry.SmallPageShift);

    /// <summary>
    /// The shadow root the hardware walks for guest CR3 <paramref name="guestCr3"/>: the cached one,
    /// or a new empty one (the least recently used tree is dropped when the cache is full). With
    /// out-of-sync tables, those the cached tree reaches are brought back in sync first, as KVM
    /// syncs the roots at each CR3 load. What it touched goes into <paramref name="work"/>.
    /// </summary>
    public ulong RootFor(ulong guestCr3, ShadowWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ulong pml4 = guestCr3 & PageEntry.AddressMask;
        for (LinkedListNode<Root>? n = _roots.First; n is not null; n = n.Next)
        {
            if (n.Value.GuestPml4 == pml4)
            {
                _roots.Remove(n);
                _roots.AddFirst(n);
                _rootHits.Increment();
                SyncReachable(n.Value, work);
                return n.Value.Shadow;
            }
        }
        _rootMisses.Increment();
        if (_roots.Count == MaxRoots)
        {
            Evict(_roots.Last!.Value);
        }
        var root = new Root(pml4);
        _roots.AddFirst(root);
        root.Shadow = PageFor(root, pml4 >> PageEntry.SmallPageShift, 3, direct: false, work, out bool isNew);
        if (isNew)
        {
            work.ShadowPagesMade.Add(root.Shadow);
        }
        _prepareRoot?.Invoke(root.Shadow);
        return root.Shadow;
    }

    /// <summary>
    /// The shadow root for <paramref name="guestCr3"/> as the MMU asks for it on each load of the
    /// guest's CR3: the one the hypervisor's CR3 handler has just found or made (not counted
    /// again), or, for a load no handler saw (the guest's boot), a new one.
    /// </summary>
    public ulong ShadowRootOf(ulong guestCr3)
    {
        ulong pml4 = guestCr3 & PageEntry.AddressMask;
        return _roots.First is { } n && n.Value.GuestPml4 == pml4 ? n.Value.Shadow : RootFor(guestCr3, new ShadowWork());
    }

    /// <summary>
    /// Resolves a page fault the hardware raised walking the shadow of <paramref name="guestCr3"/>
    /// at <paramref name="linearAddress"/>: walks the guest's tables and fills the shadow (a hidden
    /// fault), finds the guest's own fault, or finds a write to a guest page table, which, with
    /// out-of-sync tables, lets a leaf table out of sync and is then filled as a hidden fault.
    /// </summary>
    public ShadowFault Resolve(ulong guestCr3, ulong linearAddress, MemoryAccessKind kind, bool user)
    {
        Root root = Current(guestCr3);
        var work = new ShadowWork();
        PageFaultErrorCode access = (kind == MemoryAccessKind.Write ? PageFaultErrorCode.Write : 0) |
            (kind == MemoryAccessKind.Fetch ? PageFaultErrorCode.InstructionFetch : 0) | (user ? PageFaultErrorCode.User : 0);
        GuestWalk walk = Walk(guestCr3, linearAddress, kind, user, work, faulting: true);
        if (walk.Fault is { } code)
        {
            _guestFaults.Increment();
            return new ShadowFault(ShadowFaultKind.GuestFault, access | code, 0, work);
        }
        ulong frame = walk.Page >> PageEntry.SmallPageShift;
        if (kind == MemoryAccessKind.Write && _code.Contains(frame))
        {
            return new ShadowFault(ShadowFaultKind.CodeWrite, 0, walk.Page | (linearAddress & 0xFFF), work);
        }
        if (kind == MemoryAccessKind.Write && WriteProtected(frame))
        {
            if (!_unsyncLeaves || !OnlyLeafShadows(frame))
            {
                _tableWrites.Increment();
                return new ShadowFault(ShadowFaultKind.PageTableWrite, 0, walk.Page | (linearAddress & 0xFFF), work);
            }
            HashLookup(work, frame); // mmu_try_to_unsync_pages walks the frame's shadow pages
            _outOfSync.Add(frame); // the write goes through, and so will the next ones
            _unsynced!.Increment();
            work.TablesUnsynced++;
        }
        _fills.Increment();
        Fill(root, linearAddress, walk, writable: kind == MemoryAccessKind.Write || walk.Dirty, work);
        return new ShadowFault(ShadowFaultKind.Fill, 0, 0, work);
    }

    /// <summary>The shadow pages of guest table <paramref name="frame"/>, in every tree (none if it has none).</summary>
    private ulong[] PagesOf(ulong frame) => _shadowsOf.TryGetValue(frame, out List<(Root Root, ulong Page)>? shadows) ? [.. shadows.Select(s => s.Page)] : [];

    /// <summary>A lookup of guest table <paramref name="frame"/>'s shadow pages in the hash (KVM's for_each_gfn_valid_sp), recorded in <paramref name="work"/>.</summary>
    private void HashLookup(ShadowWork work, ulong frame) => work.HashLookups.Add((frame, PagesOf(frame)));

    /// <summary>Whether every shadow page of guest frame <paramref name="frame"/> shadows it as a leaf table: only then may it go out of sync (KVM keeps higher-level shadow pages write-protected: account_shadowed).</summary>
    private bool OnlyLeafShadows(ulong frame) =>
        _shadowsOf.TryGetValue(frame, out List<(Root Root, ulong Page)>? shadows) && shadows.TrueForAll(s => s.Root.PageKeys[s.Page].Level == 0);

    /// <summary>The guest's tables walked in software for <paramref name="linearAddress"/>: each entry read (into <paramref name="work"/>) and, on a fault's walk, accessed (and dirty) bits set as the hardware would.</summary>
    private GuestWalk Walk(ulong guestCr3, ulong linearAddress, MemoryAccessKind kind, bool user, ShadowWork work, bool faulting)
    {
        var tables = new ulong[4]; // the guest table frame of each level, 3 (PML4) to 0
        ulong table = guestCr3 & PageEntry.AddressMask;
        WalkRights rights = WalkRights.All;
        for (int level = 3; ; level--)
        {
            tables[level] = table >> PageEntry.SmallPageShift;
            if (faulting && _unshadowAfterWrites > 0)
            {
                _writesSinceUse.Remove(tables[level]); // in use as a table: its writes so far were no flood
            }
            ulong entryAddress = table + ((ulong)PageEntry.Index(linearAddress, level) * 8);
            work.GuestEntriesRead.Add(entryAddress);
            ulong entry = entryAddress < _guest.SizeBytes ? _guest.ReadUInt64(entryAddress) : 0;
            if ((entry & PageEntry.Present) == 0)
            {
                return GuestWalk.Failed(0);
            }
            bool large = level == 1 && (entry & PageEntry.PageSize) != 0;
            if (level >= 2 && (entry & PageEntry.PageSize) != 0)
            {
                return GuestWalk.Failed(PageFaultErrorCode.Protection | PageFaultErrorCode.ReservedBit);
            }
            WalkRights upper = rights;
            rights = rights.And(entry);
            if (level == 0 || large)
            {
                if ((user && !rights.User) || (kind == MemoryAccessKind.Write && !rights.Writable) || (kind == MemoryAccessKind.Fetch && rights.NoExecute))
                {
                    return GuestWalk.Failed(PageFaultErrorCode.Protection);
                }
                if (faulting)
                {
                    entry |= PageEntry.Accessed | (kind == MemoryAccessKind.Write ? PageEntry.Dirty : 0);
                    _guest.WriteUInt64(entryAddress, entry);
                }
                ulong page = large
                    ? (entry & PageEntry.LargeAddressMask) + (linearAddress & ((1UL << PageEntry.LargePageShift) - 1) & ~0xFFFUL)
                    : entry & PageEntry.AddressMask;
                return new GuestWalk(tables, level, page, upper, rights, (entry & PageEntry.Global) != 0, (entry & PageEntry.Dirty) != 0, (entry & PageEntry.Accessed) != 0, null);
            }
            if (faulting && (entry & PageEntry.Accessed) == 0)
            {
                _guest.WriteUInt64(entryAddress, entry | PageEntry.Accessed);
            }
            table = entry & PageEntry.AddressMask;
        }
    }

    /// <summary>A software walk's outcome: the guest table frames (level 3 to 0), the leaf's level and page, the rights above the leaf and with it, its global, dirty and accessed bits; or the fault's error-code bits.</summary>
    private readonly record struct GuestWalk(ulong[] Tables, int LeafLevel, ulong Page, WalkRights Upper, WalkRights Rights, bool Global, bool Dirty, bool Accessed, PageFaultErrorCode? Fault)
    {
        public static GuestWalk Failed(PageFaultErrorCode code) => new([], 0, 0, default, default, false, false, false, code);
    }

    /// <summary>
    /// Brings back in sync each out-of-sync table <paramref name="root"/> reaches (the other trees'
    /// shadows of the same frames with it, since a frame is in or out of sync as a whole).
    /// </summary>
    private void SyncReachable(Root root, ShadowWork work)
    {
        if (_outOfSync.Count == 0)
        {
            return;
        }
        foreach (ulong frame in _outOfSync.Where(f => _shadowsOf[f].Exists(s => s.Root == root)).ToArray())
        {
            Resync(frame, work);
        }
    }

    /// <summary>
    /// Out-of-sync table <paramref name="frame"/> brought back in sync: every shadow page of it read
    /// whole, each present shadow entry checked against the guest's entry (read) and cleared if
    /// it maps another page or grants what the guest's entry no longer does, then the frame
    /// write-protected again (kvm_sync_page and FNAME(sync_page); then rmap_write_protect).
    /// </summary>
    private void Resync(ulong frame, ShadowWork work)
    {
        foreach ((Root _, ulong page) in _shadowsOf[frame])
        {
            for (ulong line = page; line < page + PhysicalMemory.FrameBytes; line += 64)
            {
                work.ShadowEntriesRead.Add(line);
            }
            for (ulong offset = 0; offset < PhysicalMemory.FrameBytes; offset += 8)
            {
                ulong spte = _host.ReadUInt64(page + offset);
                if (spte == 0)
                {
                    continue;
                }
                ulong gpa = (frame << PageEntry.SmallPageShift) + offset;
                work.GuestEntriesRead.Add(gpa);
                work.EntriesResynced++;
                if (!StillAllowed(spte, _guest.ReadUInt64(gpa)))
                {
                    _host.WriteUInt64(page + offset, 0);
                    work.ShadowEntriesWritten.Add(page + offset);
                }
            }
        }
        _outOfSync.Remove(frame);
        RemoveWriteRight(frame);
        _resynced!.Increment();
        work.TablesResynced++;
    }

    /// <summary>Whether shadow leaf <paramref name="spte"/> may stay as it is for guest entry <paramref name="gpte"/>: the same page, accessed, and no right the guest's entry lacks (a writable shadow needs a writable, dirty entry).</summary>
    private bool StillAllowed(ulong spte, ulong gpte)
    {
        const ulong need = PageEntry.Present | PageEntry.Accessed;
        return (gpte & need) == need
            && (spte & PageEntry.AddressMask) == ((_hostBase + (gpte & PageEntry.AddressMask)) & PageEntry.AddressMask)
            && ((spte & PageEntry.Writable) == 0 || (gpte & (PageEntry.Writable | PageEntry.Dirty)) == (PageEntry.Writable | PageEntry.Dirty))
            && ((spte & PageEntry.User) == 0 || _kernelAtUserLevel || (gpte & PageEntry.User) != 0)
            && ((spte & PageEntry.NoExecute) != 0 || (gpte & PageEntry.NoExecute) == 0);
    }

    /// <summary>
    /// The guest wrote its page table at <paramref name="gpa"/> (the write itself is already in
    /// guest memory): the shadow entries made from the guest entries of that 64-byte line are
    /// cleared (a store may have written a whole line, as a memset or memcpy of a table does),
    /// and the shadow tables below a cleared entry are dropped with it, so that nothing made from
    /// the old contents survives. Returns the shadow entries cleared; the hash lookup of the
    /// frame's shadow pages (kvm_mmu_pte_write's for_each_gfn_indirect_valid_sp) goes into
    /// <paramref name="work"/>.
    /// </summary>
    public IReadOnlyList<ulong> TableWritten(ulong gpa, ShadowWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        HashLookup(work, gpa >> PageEntry.SmallPageShift);
        var cleared = new List<ulong>();
        if (!_shadowsOf.TryGetValue(gpa >> PageEntry.SmallPageShift, out List<(Root Root, ulong Page)>? shadows))
        {
            return cleared;
        }
        foreach ((Root root, ulong shadowPage) in shadows.ToArray())
        {
            if (!root.PageKeys.TryGetValue(shadowPage, out var id))
            {
                continue; // dropped with a subtree above it, earlier in this loop
            }
            ulong line = shadowPage + (gpa & 0xFC0);
            for (ulong entry = line; entry < line + 64; entry += 8)
            {
                ulong value = _host.ReadUInt64(entry);
                if (value == 0)
                {
                    continue;
                }
                _host.WriteUInt64(entry, 0);
                cleared.Add(entry);
                if (id.Level > 0 && (value & PageEntry.Present) != 0)
                {
                    Drop(root, value & PageEntry.AddressMask);
                }
            }
            if (shadowPage == root.Shadow)
            {
                _prepareRoot?.Invoke(shadowPage); // the monitor's own slot, if it was in that line
            }
        }
        ulong frame = gpa >> PageEntry.SmallPageShift;
        if (_unshadowAfterWrites > 0 && (_writesSinceUse[frame] = _writesSinceUse.GetValueOrDefault(frame) + 1) >= _unshadowAfterWrites)
        {
            Unshadow(frame, cleared);
        }
        return cleared;
    }

    /// <summary>
    /// Stops shadowing guest table <paramref name="frame"/>: each of its shadow pages is unlinked
    /// from its parents (the entries cleared are added to <paramref name="cleared"/>) and dropped
    /// with everything below it, or, if it is the root of a tree, the whole tree goes, unless it is
    /// the tree in use (the guest's CR3 points there); that lifts the frame's write protection.
    /// </summary>
    private void Unshadow(ulong frame, List<ulong> cleared)
    {
        _writesSinceUse.Remove(frame);
        if (!_shadowsOf.TryGetValue(frame, out List<(Root Root, ulong Page)>? shadows))
        {
            return;
        }
        bool any = false;
        foreach ((Root root, ulong page) in shadows.ToArray())
        {
            if (page == root.Shadow)
            {
                if (root != _roots.First!.Value)
                {
                    Forget(root); // an address space no longer in use, such as an exited process's
                    any = true;
                }
                continue;
            }
            if (!root.Parents.TryGetValue(page, out List<ulong>? parents))
            {
                continue;
            }
            foreach (ulong entry in parents)
            {
                if ((_host.ReadUInt64(entry) & PageEntry.AddressMask) == page)
                {
                    _host.WriteUInt64(entry, 0);
                    cleared.Add(entry);
                }
            }
            Drop(root, page);
            any = true;
        }
        if (any)
        {
            _unshadowed.Increment();
        }
    }

    /// <summary>Drops the shadow page at <paramref name="page"/> and every shadow page below it (a page that is not one of <paramref name="root"/>'s, such as the monitor's table, is left alone).</summary>
    private void Drop(Root root, ulong page)
    {
        if (!root.PageKeys.TryGetValue(page, out var id))
        {
            return;
        }
        if (id.Level > 0)
        {
            for (ulong entry = page; entry < page + PhysicalMemory.FrameBytes; entry += 8)
            {
                ulong value = _host.ReadUInt64(entry);
                if ((value & PageEntry.Present) != 0)
                {
                    Drop(root, value & PageEntry.AddressMask);
                }
            }
        }
        root.Order.Remove(id);
        Release(root, id, page);
    }

    /// <summary>Forgets shadow page <paramref name="page"/> of <paramref name="root"/>: its guest table is no longer shadowed by it, and its frame is freed.</summary>
    private void Release(Root root, (ulong Key, int Level, bool Direct) id, ulong page)
    {
        root.Pages.Remove(id);
        root.PageKeys.Remove(page);
        root.Parents.Remove(page);
        if (!id.Direct)
        {
            _shadowsOf[id.Key].RemoveAll(s => s.Page == page);
            if (--_protected[id.Key] == 0)
            {
                _protected.Remove(id.Key);
                _outOfSync.Remove(id.Key);
            }
        }
        _host.FreeFrame(page);
    }

    /// <summary>
    /// The guest's INVLPG of <paramref name="linearAddress"/>: the current tree's shadow walked to
    /// the leaf (each entry read into <paramref name="work"/>). A leaf of an out-of-sync table is
    /// rewritten from the guest's entry, read by a software walk (cleared, and filled again if the
    /// guest's entry is present and accessed: FNAME(invlpg) and FNAME(update_pte)); a leaf of a
    /// table in sync is exact already and left alone.
    /// </summary>
    public void Invalidate(ulong guestCr3, ulong linearAddress, ShadowWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        Root root = Current(guestCr3);
        ulong table = root.Shadow;
        for (int level = 3; level >= 0; level--)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(linearAddress, level) * 8);
            work.ShadowEntriesRead.Add(entryAddress);
            if (level == 0)
            {
                if (root.PageKeys.TryGetValue(table, out var id) && !id.Direct && _outOfSync.Contains(id.Key))
                {
                    _host.WriteUInt64(entryAddress, 0);
                    work.ShadowEntriesWritten.Add(entryAddress);
                    GuestWalk walk = Walk(guestCr3, linearAddress, MemoryAccessKind.Read, user: false, work, faulting: false);
                    if (walk.Fault is null && walk.LeafLevel == 0 && walk.Accessed && walk.Page < _guest.SizeBytes)
                    {
                        SetLeaf(entryAddress, walk.Page, walk.Rights, walk.Global, walk.Dirty);
                    }
                }
                return;
            }
            ulong entry = _host.ReadUInt64(entryAddress);
            if ((entry & PageEntry.Present) == 0)
            {
                return;
            }
            table = entry & PageEntry.AddressMask;
        }
    }

    private Root Current(ulong guestCr3)
    {
        ulong pml4 = guestCr3 & PageEntry.AddressMask;
        return _roots.FirstOrDefault(r => r.GuestPml4 == pml4) ?? throw new InvalidOperationException($"No shadow for guest CR3 0x{guestCr3:X}: the hypervisor missed a CR3 load.");
    }

    /// <summary>
    /// Makes the shadow path for <paramref name="linearAddress"/> down to a 4 KiB leaf mapping the
    /// page <paramref name="walk"/> found, then, with prefetch, the leaves of its group of 8.
    /// </summary>
    private void Fill(Root root, ulong linearAddress, GuestWalk walk, bool writable, ShadowWork work)
    {
        ulong shadow = root.Shadow;
        for (int level = 3; level >= 1; level--)
        {
            ulong entryAddress = shadow + ((ulong)PageEntry.Index(linearAddress, level) * 8);
            ulong entry = _host.ReadUInt64(entryAddress);
            if ((entry & PageEntry.Present) == 0)
            {
                // The next shadow table: of the guest's next table, or, below a guest 2 MiB page, a
                // table of 4 KiB entries for that page alone.
                bool direct = level == 1 && walk.LeafLevel == 1;
                ulong key = direct ? walk.Page >> PageEntry.LargePageShift : walk.Tables[level - 1];
                ulong next = PageFor(root, key, level - 1, direct, work, out bool isNew);
                if (isNew)
                {
                    work.ShadowPagesMade.Add(next);
                }
                entry = next | PageEntry.Present | PageEntry.Writable | PageEntry.User | PageEntry.Accessed;
                _host.WriteUInt64(entryAddress, entry);
                work.ShadowEntriesWritten.Add(entryAddress);
                if (_unshadowAfterWrites > 0) // only unshadowing needs the links
                {
                    if (!root.Parents.TryGetValue(next, out List<ulong>? parents))
                    {
                        root.Parents[next] = parents = [];
                    }
                    parents.Add(entryAddress);
                }
            }
            shadow = entry & PageEntry.AddressMask;
        }
        int index = PageEntry.Index(linearAddress, 0);
        ulong leafAddress = shadow + ((ulong)index * 8);
        SetLeaf(leafAddress, walk.Page, walk.Rights, walk.Global, writable);
        work.ShadowEntriesWritten.Add(leafAddress);
        if (_prefetch && walk.LeafLevel == 0)
        {
            Prefetch(shadow, walk, index, work);
        }
    }

    /// <summary>
    /// FNAME(pte_prefetch): the group of 8 guest entries around the faulting one read at once, and
    /// each not-present shadow entry of the group filled from its guest entry (writable only if
    /// that is dirty), in order, until a guest entry is not present or not accessed.
    /// </summary>
    private void Prefetch(ulong shadowTable, GuestWalk walk, int faulting, ShadowWork work)
    {
        ulong guestTable = walk.Tables[0] << PageEntry.SmallPageShift;
        int first = faulting & ~(PrefetchGroup - 1);
        work.GuestEntriesRead.Add(guestTable + ((ulong)first * 8));
        for (int i = first; i < first + PrefetchGroup; i++)
        {
            ulong leafAddress = shadowTable + ((ulong)i * 8);
            if (i == faulting || (_host.ReadUInt64(leafAddress) & PageEntry.Present) != 0)
            {
                continue;
            }
            ulong gpte = _guest.ReadUInt64(guestTable + ((ulong)i * 8));
            ulong page = gpte & PageEntry.AddressMask;
            if ((gpte & (PageEntry.Present | PageEntry.Accessed)) != (PageEntry.Present | PageEntry.Accessed) || page >= _guest.SizeBytes)
            {
                break;
            }
            SetLeaf(leafAddress, page, walk.Upper.And(gpte), (gpte & PageEntry.Global) != 0, writable: (gpte & PageEntry.Dirty) != 0);
            work.ShadowEntriesWritten.Add(leafAddress);
            work.EntriesPrefetched++;
            _prefetched!.Increment();
        }
    }

    /// <summary>KVM's PTE_PREFETCH_NUM: the guest entries a prefetch looks at, an aligned group (arch/x86/kvm/mmu/mmu.c).</summary>
    private const int PrefetchGroup = 8;

    /// <summary>Writes the shadow leaf at <paramref name="leafAddress"/> mapping guest page <paramref name="page"/>, writable only if asked and the page is not a write-protected guest table, and records it as a mapping of that page.</summary>
    private void SetLeaf(ulong leafAddress, ulong page, WalkRights rights, bool global, bool writable)
    {
        ulong frame = page >> PageEntry.SmallPageShift;
        bool w = rights.Writable && writable && !WriteProtected(frame);
        ulong leaf = (_hostBase + page) | PageEntry.Present | PageEntry.Accessed |
            (w ? PageEntry.Writable | PageEntry.Dirty : 0) | (rights.User || _kernelAtUserLevel ? PageEntry.User : 0) |
            (global ? PageEntry.Global : 0) | (rights.NoExecute ? PageEntry.NoExecute : 0);
        _host.WriteUInt64(leafAddress, leaf);
        if (!_mappings.TryGetValue(frame, out List<ulong>? list))
        {
            _mappings[frame] = list = [];
        }
        list.Add(leafAddress);
    }

    /// <summary>The shadow page of <paramref name="root"/> for guest table (or large page) <paramref name="key"/> at <paramref name="level"/>, made (zeroed) if new; an out-of-sync table made a higher-level one is synced first.</summary>
    private ulong PageFor(Root root, ulong key, int level, bool direct, ShadowWork work, out bool isNew)
    {
        var id = (key, level, direct);
        bool found = root.Pages.TryGetValue(id, out ulong existing);
        if (direct) // kvm_mmu_get_page: the gfn's bucket, and the pages of it on the chain
        {
            work.HashLookups.Add((key, found ? [existing] : []));
        }
        else
        {
            HashLookup(work, key);
        }
        if (found)
        {
            isNew = false;
            return existing;
        }
        ulong page = _host.AllocateFrame();
        _pagesMade.Increment();
        root.Pages[id] = page;
        root.PageKeys[page] = id;
        root.Order.Add(id);
        isNew = true;
        if (!direct && level > 0 && _outOfSync.Contains(key))
        {
            Resync(key, work); // an out-of-sync leaf table now used as a higher-level one: in sync and write-protected again
        }
        if (!direct)
        {
            if (!_shadowsOf.TryGetValue(key, out List<(Root Root, ulong Page)>? shadows))
            {
                _shadowsOf[key] = shadows = [];
            }
            shadows.Add((root, page));
            Protect(key);
        }
        return page;
    }

    /// <summary>Guest frame <paramref name="frame"/> holds a guest table: shadow entries that map it writable lose their write right.</summary>
    private void Protect(ulong frame)
    {
        _protected[frame] = _protected.GetValueOrDefault(frame) + 1;
        if (_protected[frame] == 1)
        {
            RemoveWriteRight(frame);
        }
    }

    /// <summary>The shadow leaves that map guest frame <paramref name="frame"/> writable lose their write right (the TLB may still hold them writable: the hypervisor flushes).</summary>
    private void RemoveWriteRight(ulong frame)
    {
        if (!_mappings.TryGetValue(frame, out List<ulong>? leaves))
        {
            return;
        }
        ulong expected = (_hostBase + (frame << PageEntry.SmallPageShift)) & PageEntry.AddressMask;
        foreach (ulong leaf in leaves)
        {
            ulong entry = _host.ReadUInt64(leaf);
            if ((entry & PageEntry.Present) != 0 && (entry & PageEntry.AddressMask) == expected)
            {
                _host.WriteUInt64(leaf, entry & ~PageEntry.Writable);
            }
        }
        leaves.Clear();
        ProtectionsChanged = true;
    }

    /// <summary>Set when existing shadow entries lost their write right since the flag was last cleared: the guest's TLB entries must go.</summary>
    public bool ProtectionsChanged { get; set; }

    private void Evict(Root root)
    {
        _evictions.Increment();
        Forget(root);
    }

    /// <summary>Drops <paramref name="root"/>'s whole tree and the root from the cache.</summary>
    private void Forget(Root root)
    {
        _roots.Remove(root);
        foreach (var id in root.Order)
        {
            Release(root, id, root.Pages[id]);
        }
        root.Order.Clear();
    }

    private sealed class Root(ulong guestPml4)
    {
        public ulong GuestPml4 { get; } = guestPml4;

        public ulong Shadow { get; set; }

        public Dictionary<(ulong Key, int Level, bool Direct), ulong> Pages { get; } = [];

        /// <summary>The other way round: which guest table (or large page) and level each shadow page stands for.</summary>
        public Dictionary<ulong, (ulong Key, int Level, bool Direct)> PageKeys { get; } = [];

        /// <summary>The shadow entries that link each shadow page below the root into the tree (kept only when unshadowing is on).</summary>
        public Dictionary<ulong, List<ulong>> Parents { get; } = [];

        /// <summary>The pages in the order they were made, so that freeing them does not depend on hash order.</summary>
        public List<(ulong Key, int Level, bool Direct)> Order { get; } = [];
    }
}
