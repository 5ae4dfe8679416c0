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
    public ShadowPageTables(PhysicalMemory host, PhysicalMemory guest, ulong hostBase, int maxRoots, StatGroup stats,
        Action<ulong>? prepareRoot = null, bool kernelAtUserLevel = false, int unshadowAfterWrites = 0)
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
    }

    public int MaxRoots { get; }

    /// <summary>Guest frames currently write-protected because they hold guest page tables.</summary>
    public int ProtectedFrames => _protected.Count;

    /// <summary>Whether guest-physical frame <paramref name="gpa"/> is write-protected as a guest page-table page.</summary>
    public bool IsProtected(ulong gpa) => _protected.ContainsKey(gpa >> PageEntry.SmallPageShift);

    /// <summary>
    /// The shadow root the hardware walks for guest CR3 <paramref name="guestCr3"/>: the cached one,
    /// or a new empty one (the least recently used tree is dropped when the cache is full).
    /// <paramref name="made"/> is the shadow page made, if any.
    /// </summary>
    public ulong RootFor(ulong guestCr3, out ulong? made)
    {
        ulong pml4 = guestCr3 & PageEntry.AddressMask;
        for (LinkedListNode<Root>? n = _roots.First; n is not null; n = n.Next)
        {
            if (n.Value.GuestPml4 == pml4)
            {
                _roots.Remove(n);
                _roots.AddFirst(n);
                _rootHits.Increment();
                made = null;
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
        root.Shadow = PageFor(root, pml4 >> PageEntry.SmallPageShift, 3, direct: false, out bool isNew);
        made = isNew ? root.Shadow : null;
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
        return _roots.First is { } n && n.Value.GuestPml4 == pml4 ? n.Value.Shadow : RootFor(guestCr3, out _);
    }

    /// <summary>
    /// Resolves a page fault the hardware raised walking the shadow of <paramref name="guestCr3"/>
    /// at <paramref name="linearAddress"/>: walks the guest's tables and fills the shadow (a hidden
    /// fault), finds the guest's own fault, or finds a write to a guest page table.
    /// </summary>
    public ShadowFault Resolve(ulong guestCr3, ulong linearAddress, MemoryAccessKind kind, bool user)
    {
        Root root = Current(guestCr3);
        var reads = new List<ulong>(4);
        PageFaultErrorCode access = (kind == MemoryAccessKind.Write ? PageFaultErrorCode.Write : 0) |
            (kind == MemoryAccessKind.Fetch ? PageFaultErrorCode.InstructionFetch : 0) | (user ? PageFaultErrorCode.User : 0);
        var tables = new ulong[4]; // the guest table frame of each level, 3 (PML4) to 0
        ulong table = guestCr3 & PageEntry.AddressMask;
        WalkRights rights = WalkRights.All;
        ulong page = 0;
        bool global = false, dirty = false;
        int leafLevel = 0;
        for (int level = 3; ; level--)
        {
            tables[level] = table >> PageEntry.SmallPageShift;
            if (_unshadowAfterWrites > 0)
            {
                _writesSinceUse.Remove(tables[level]); // in use as a table: its writes so far were no flood
            }
            ulong entryAddress = table + ((ulong)PageEntry.Index(linearAddress, level) * 8);
            reads.Add(entryAddress);
            ulong entry = entryAddress < _guest.SizeBytes ? _guest.ReadUInt64(entryAddress) : 0;
            if ((entry & PageEntry.Present) == 0)
            {
                return GuestFault(access, reads);
            }
            bool large = level == 1 && (entry & PageEntry.PageSize) != 0;
            if (level >= 2 && (entry & PageEntry.PageSize) != 0)
            {
                return GuestFault(access | PageFaultErrorCode.Protection | PageFaultErrorCode.ReservedBit, reads);
            }
            rights = rights.And(entry);
            if (level == 0 || large)
            {
                if ((user && !rights.User) || (kind == MemoryAccessKind.Write && !rights.Writable) || (kind == MemoryAccessKind.Fetch && rights.NoExecute))
                {
                    return GuestFault(access | PageFaultErrorCode.Protection, reads);
                }
                entry |= PageEntry.Accessed | (kind == MemoryAccessKind.Write ? PageEntry.Dirty : 0);
                _guest.WriteUInt64(entryAddress, entry);
                dirty = (entry & PageEntry.Dirty) != 0;
                global = (entry & PageEntry.Global) != 0;
                page = large
                    ? (entry & PageEntry.LargeAddressMask) + (linearAddress & ((1UL << PageEntry.LargePageShift) - 1) & ~0xFFFUL)
                    : entry & PageEntry.AddressMask;
                leafLevel = level;
                break;
            }
            if ((entry & PageEntry.Accessed) == 0)
            {
                _guest.WriteUInt64(entryAddress, entry | PageEntry.Accessed);
            }
            table = entry & PageEntry.AddressMask;
        }
        if (kind == MemoryAccessKind.Write && IsProtected(page))
        {
            _tableWrites.Increment();
            return new ShadowFault(ShadowFaultKind.PageTableWrite, 0, page | (linearAddress & 0xFFF), reads, [], []);
        }
        _fills.Increment();
        var writes = new List<ulong>(4);
        var made = new List<ulong>();
        Fill(root, linearAddress, tables, leafLevel, page, rights, global, writable: kind == MemoryAccessKind.Write || dirty, writes, made);
        return new ShadowFault(ShadowFaultKind.Fill, 0, 0, reads, writes, made);
    }

    /// <summary>
    /// The guest wrote its page table at <paramref name="gpa"/> (the write itself is already in
    /// guest memory): the shadow entries made from the guest entries of that 64-byte line are
    /// cleared (a store may have written a whole line, as a memset or memcpy of a table does),
    /// and the shadow tables below a cleared entry are dropped with it, so that nothing made from
    /// the old contents survives. Returns the shadow entries cleared.
    /// </summary>
    public IReadOnlyList<ulong> TableWritten(ulong gpa)
    {
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
            }
        }
        _host.FreeFrame(page);
    }

    /// <summary>The guest's INVLPG of <paramref name="linearAddress"/>: clears the shadow leaf for it in the current tree. Returns the shadow entries read on the way and the one cleared.</summary>
    public IReadOnlyList<ulong> Invalidate(ulong guestCr3, ulong linearAddress)
    {
        var touched = new List<ulong>(4);
        ulong table = Current(guestCr3).Shadow;
        for (int level = 3; level >= 0; level--)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(linearAddress, level) * 8);
            touched.Add(entryAddress);
            ulong entry = _host.ReadUInt64(entryAddress);
            if ((entry & PageEntry.Present) == 0)
            {
                break;
            }
            if (level == 0)
            {
                _host.WriteUInt64(entryAddress, 0);
                break;
            }
            table = entry & PageEntry.AddressMask;
        }
        return touched;
    }

    private Root Current(ulong guestCr3)
    {
        ulong pml4 = guestCr3 & PageEntry.AddressMask;
        return _roots.FirstOrDefault(r => r.GuestPml4 == pml4) ?? throw new InvalidOperationException($"No shadow for guest CR3 0x{guestCr3:X}: the hypervisor missed a CR3 load.");
    }

    private ShadowFault GuestFault(PageFaultErrorCode code, List<ulong> reads)
    {
        _guestFaults.Increment();
        return new ShadowFault(ShadowFaultKind.GuestFault, code, 0, reads, [], []);
    }

    /// <summary>Makes the shadow path for <paramref name="linearAddress"/> down to a 4 KiB leaf mapping guest page <paramref name="page"/>.</summary>
    private void Fill(Root root, ulong linearAddress, ulong[] tables, int leafLevel, ulong page, WalkRights rights, bool global, bool writable,
        List<ulong> writes, List<ulong> made)
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
                bool direct = level == 1 && leafLevel == 1;
                ulong key = direct ? page >> PageEntry.LargePageShift : tables[level - 1];
                ulong next = PageFor(root, key, level - 1, direct, out bool isNew);
                if (isNew)
                {
                    made.Add(next);
                }
                entry = next | PageEntry.Present | PageEntry.Writable | PageEntry.User | PageEntry.Accessed;
                _host.WriteUInt64(entryAddress, entry);
                writes.Add(entryAddress);
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
        ulong leafAddress = shadow + ((ulong)PageEntry.Index(linearAddress, 0) * 8);
        ulong frame = page >> PageEntry.SmallPageShift;
        bool w = rights.Writable && writable && !_protected.ContainsKey(frame);
        ulong leaf = (_hostBase + page) | PageEntry.Present | PageEntry.Accessed |
            (w ? PageEntry.Writable | PageEntry.Dirty : 0) | (rights.User || _kernelAtUserLevel ? PageEntry.User : 0) |
            (global ? PageEntry.Global : 0) | (rights.NoExecute ? PageEntry.NoExecute : 0);
        _host.WriteUInt64(leafAddress, leaf);
        writes.Add(leafAddress);
        if (!_mappings.TryGetValue(frame, out List<ulong>? list))
        {
            _mappings[frame] = list = [];
        }
        list.Add(leafAddress);
    }

    /// <summary>The shadow page of <paramref name="root"/> for guest table (or large page) <paramref name="key"/> at <paramref name="level"/>, made (zeroed) if new.</summary>
    private ulong PageFor(Root root, ulong key, int level, bool direct, out bool isNew)
    {
        var id = (key, level, direct);
        if (root.Pages.TryGetValue(id, out ulong existing))
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
        if (_protected[frame] > 1 || !_mappings.TryGetValue(frame, out List<ulong>? leaves))
        {
            return;
        }
        ulong expected = (_hostBase + (frame << PageEntry.SmallPageShift)) & PageEntry.AddressMask;
        foreach (ulong leaf in leaves)
        {
            ulong entry = _host.ReadUInt64(leaf);
            if ((entry & PageEntry.Present) != 0 && (entry & PageEntry.AddressMask) == expected)
            {
                _host.WriteUInt64(leaf, entry & ~PageEntry.Writable); // the TLB may still hold it writable: the hypervisor flushes
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
