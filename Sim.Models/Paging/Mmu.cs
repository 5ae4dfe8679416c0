using Sim.Engine.Statistics;
using Sim.Models.Hardware;
using Sim.Models.Memory;

namespace Sim.Models.Paging;

/// <summary>
/// One core's address translation: CR3 (with its PCID), the TLB hierarchy of the profile, the
/// paging-structure caches and the page walker. It implements what the SDM specifies for
/// MOV CR3 and INVLPG, so the costs of context switches and of TLB shootdowns come out of the
/// mechanism.
/// </summary>
/// <remarks>
/// Model: a first-level TLB hit adds no cycles (it is part of the load-to-use latency); an STLB
/// hit adds the profile's STLB penalty; a miss adds the walk's cycles. A hit on an entry that
/// lacks the rights for the access, or a write through an entry whose dirty bit is clear, drops
/// the entry and walks again, so the fault or the dirty bit comes from the tables in memory.
/// </remarks>
public sealed class Mmu
{
    private readonly Tlb _itlbSmall;
    private readonly Tlb _itlbLarge;
    private readonly Tlb _dtlbSmall;
    private readonly Tlb _dtlbLarge;
    private readonly Tlb? _stlb;
    private readonly Tlb[] _allTlbs; // every array, for flushes (which VM transitions without VPIDs make on each exit and entry)
    private readonly bool _stlbHoldsLarge;
    private readonly int _stlbHitCycles;
    private readonly PagingStructureCaches _caches;
    private readonly bool _pcidSupported;
    private readonly HardwareProfile _profile;
    private readonly PhysicalMemory _hostMemory;
    private readonly MemoryPath _path;
    private readonly StatGroup _tlbStats;
    private readonly Context _host;
    private PagingStructureCaches? _eptCaches; // made with the first EPT attached, shared by every guest's EPT
    private byte _epts;                         // EPTs attached so far: their cached entries' tags
    private Context? _guest;
    private Context _current;

    private readonly Counter _l1Hits;

    // The last first-level TLB hit, replayed without a lookup when the next access is to the same
    // page with the same kind and privilege (a host-speed shortcut, exact: that entry is already
    // the most recent in its set, so LRU order is unchanged). Cleared by every TLB change.
    private ulong _lastPage = ulong.MaxValue;
    private int _lastShift;
    private MemoryAccessKind _lastKind;
    private bool _lastUser;
    private ulong _lastBase;
    private readonly Counter _l1Misses;
    private readonly Counter _stlbHits;
    private readonly Counter _stlbMisses;
    private readonly Counter _walks;
    private readonly Counter _walkReferences;
    private readonly Counter _walkCycles;
    private readonly Counter _faults;
    private readonly Counter _flushes;

    /// <summary>The machine's physical memory, indexed by host-physical address.</summary>
    public PhysicalMemory HostMemory => _hostMemory;

    public Mmu(HardwareProfile profile, PhysicalMemory memory, MemoryPath path, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(stats);
        TlbHierarchyGeometry t = profile.Tlbs;
        _itlbSmall = new Tlb(t.InstructionSmall);
        _itlbLarge = new Tlb(t.InstructionLarge);
        _dtlbSmall = new Tlb(t.DataSmall);
        _dtlbLarge = new Tlb(t.DataLarge);
        _stlb = t.SecondLevel is null ? null : new Tlb(t.SecondLevel);
        _allTlbs = _stlb is null ? [_itlbSmall, _itlbLarge, _dtlbSmall, _dtlbLarge] : [_itlbSmall, _itlbLarge, _dtlbSmall, _dtlbLarge, _stlb];
        _stlbHoldsLarge = t.SecondLevelHoldsLargePages;
        _stlbHitCycles = t.SecondLevelHitCycles;
        _pcidSupported = profile.Features.Pcid;
        StatGroup tlb = stats.Child("tlb");
        _caches = new PagingStructureCaches(profile.PagingStructureCaches, tlb.Child("psc"));
        (_profile, _hostMemory, _path, _tlbStats) = (profile, memory, path, tlb);
        _host = _current = new Context(new PageWalker(memory, path, _caches), vpid: 0);
        _l1Hits = tlb.Counter("l1_hits", "count", "translations found in a first-level TLB");
        _l1Misses = tlb.Counter("l1_misses", "count", "translations missing from the first-level TLBs");
        _stlbHits = tlb.Counter("stlb_hits", "count", "first-level misses found in the second-level TLB");
        _stlbMisses = tlb.Counter("stlb_misses", "count", "translations missing from every TLB");
        _walks = tlb.Counter("walks", "count", "page walks");
        _walkReferences = tlb.Counter("walk_references", "count", "memory references made by page walks");
        _walkCycles = tlb.Counter("walk_cycles", "cycles", "cycles of page walks");
        _faults = tlb.Counter("faults", "count", "translations that raised #PF or #GP");
        _flushes = tlb.Counter("flushed_entries", "count", "TLB entries dropped by MOV CR3 and INVLPG");
    }

    /// <summary>
    /// The physical address of the current PML4 table as software sees it in CR3: guest-physical
    /// while a guest runs under EPT, the guest's own table under shadow paging (the walk then
    /// uses the shadow root).
    /// </summary>
    public ulong Pml4 => _current.Pml4;

    /// <summary>The current PCID (always 0 without CR4.PCIDE).</summary>
    public ushort Pcid => _current.Pcid;

    /// <summary>CR4.PCIDE of the current context: set by the kernel when the profile supports PCIDs.</summary>
    public bool PcidEnabled => _current.PcidEnabled;

    private TranslationTag Tag => new(_current.Vpid, _current.Pcid);

    public long Walks => _walks.Value;

    public long WalkReferences => _walkReferences.Value;

    public void EnablePcid()
    {
        if (!_pcidSupported)
        {
            throw new InvalidOperationException("This CPU has no PCID support; CR4.PCIDE cannot be set.");
        }
        _current.PcidEnabled = true;
    }

    /// <summary>
    /// Gives the MMU a guest's translation state (what a hypervisor puts in the VMCS before the
    /// first VM entry): its VPID (0 when the CPU or the hypervisor does not use VPIDs), where its
    /// page tables live, and its EPT when it runs under nested paging. Without an EPT the guest's
    /// CR3 points at tables in host memory (shadow page tables): then <paramref name="shadowRootFor"/>
    /// gives, for each guest CR3, the shadow table the hardware walks (what the hypervisor writes
    /// to the VMCS's guest CR3 while the guest believes its own value is loaded). The first guest
    /// attached becomes the current one; a hypervisor that time-shares the core between several
    /// switches with <see cref="SelectGuest"/> (VMPTRLD).
    /// </summary>
    public GuestTranslation AttachGuest(byte vpid, PhysicalMemory tables, Ept? ept, Func<ulong, ulong>? shadowRootFor = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (vpid != 0 && !_profile.Features.Vpid)
        {
            throw new InvalidOperationException($"{_profile.Name} has no VPIDs; a guest must run with VPID 0.");
        }
        if (ept is not null && !_profile.Features.Ept)
        {
            throw new InvalidOperationException($"{_profile.Name} has no EPT; nested paging is impossible on it.");
        }
        EptWalker? eptWalker = null;
        if (ept is not null)
        {
            _eptCaches ??= new PagingStructureCaches(_profile.PagingStructureCaches, _tlbStats.Child("ept_psc"));
            if (_epts == byte.MaxValue)
            {
                throw new InvalidOperationException($"The model tags the EPT paging-structure caches' entries with a byte: at most {byte.MaxValue} guest translations on one core.");
            }
            eptWalker = new EptWalker(ept, _hostMemory, _path, _eptCaches, _epts++);
        }
        var guest = new Context(new PageWalker(tables, _path, _caches, eptWalker), vpid) { ShadowRootFor = shadowRootFor };
        _guest ??= guest;
        return new GuestTranslation(this, guest, tables, ept);
    }

    /// <summary>
    /// A virtual CPU's translation state moved to this core from another (its virtual CPU
    /// migrated): attached here the first time, as <see cref="AttachGuest"/> does, or
    /// <paramref name="earlier"/>, what it had here before; either way given
    /// <paramref name="from"/>'s CR3 and PCID state. Its VPID is the same, and nothing of it is in
    /// this core's TLBs or paging-structure caches unless left from an earlier stay, which the
    /// hypervisor flushes (INVVPID) before it enters the guest here.
    /// </summary>
    public GuestTranslation Adopt(GuestTranslation from, GuestTranslation? earlier)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (earlier is not null && earlier.Owner != this)
        {
            throw new ArgumentException("The earlier translation state belongs to another core's MMU.", nameof(earlier));
        }
        GuestTranslation here = earlier ?? AttachGuest(from.Context.Vpid, from.Tables, from.Ept, from.Context.ShadowRootFor);
        Context c = here.Context;
        (c.Pml4, c.WalkRoot, c.Pcid, c.PcidEnabled) = (from.Context.Pml4, from.Context.WalkRoot, from.Context.Pcid, from.Context.PcidEnabled);
        return here;
    }

    /// <summary>
    /// Makes <paramref name="guest"/> the guest whose state the next VM entry loads (VMPTRLD of its
    /// VMCS), in root mode. Its VPID keeps its TLB entries apart from the other guests'; without
    /// VPIDs the entry flushes them all anyway.
    /// </summary>
    public void SelectGuest(GuestTranslation guest)
    {
        ArgumentNullException.ThrowIfNull(guest);
        if (_current != _host)
        {
            throw new InvalidOperationException("A guest's translation state is switched in root mode only.");
        }
        _guest = guest.Context;
    }

    /// <summary>The guest's CR3 as the guest set it (its own PML4, guest-physical), whichever context is current.</summary>
    public ulong GuestPml4 => Guest.Pml4;

    /// <summary>A guest's MOV to CR3 emulated by its hypervisor in an exit handler (the core is in root mode, the guest's context is not the current one).</summary>
    public void LoadGuestCr3(ulong value) => LoadCr3(Guest, value);

    /// <summary>A guest's INVLPG emulated by its hypervisor.</summary>
    public void InvalidateGuestPage(ulong linearAddress) => Invalidate(Guest, linearAddress);

    /// <summary>Drops every translation of the guest's VPID, global ones too (INVVPID of all contexts: the hypervisor changed shadow entries the TLBs may hold).</summary>
    public void FlushGuest()
    {
        Context g = Guest;
        _lastPage = ulong.MaxValue;
        foreach (Tlb tlb in _allTlbs)
        {
            _flushes.Add(tlb.Flush(g.Vpid, null, includeGlobal: true));
        }
        _caches.Invalidate(g.Vpid, null);
    }

    private Context Guest => _guest ?? throw new InvalidOperationException("No guest is attached to the MMU.");

    /// <summary>Has <paramref name="tracer"/> hear the current context's walks (and their EPT walks), or stops it with null.</summary>
    public void TraceWalks(IWalkTracer? tracer) => _current.Walker.Tracer = tracer;

    /// <summary>
    /// Empties every TLB and, unless <paramref name="keepPagingStructureCaches"/>, every
    /// paging-structure cache, the EPT's too, of every tag (as INVVPID and INVEPT of all contexts
    /// do): for showing a cold walk, or one whose upper levels the caches still hold.
    /// </summary>
    public void FlushEverything(bool keepPagingStructureCaches = false)
    {
        _lastPage = ulong.MaxValue;
        foreach (Tlb tlb in _allTlbs)
        {
            _flushes.Add(tlb.FlushAll());
        }
        if (!keepPagingStructureCaches)
        {
            _caches.InvalidateAll();
            _eptCaches?.InvalidateAll();
        }
    }

    /// <summary>VM entry: translations are the guest's from now on. Without a VPID every TLB and paging-structure cache entry is dropped (SDM Vol. 3C 28.3.3.1).</summary>
    public void EnterGuest() => Switch(_guest ?? throw new InvalidOperationException("VM entry with no guest attached to the MMU."));

    /// <summary>VM exit: translations are the host's again, under the same flush rule as entry.</summary>
    public void ExitGuest() => Switch(_host);

    private void Switch(Context next)
    {
        if (next == _current)
        {
            return;
        }
        bool flush = (_guest?.Vpid ?? 0) == 0;
        _current = next;
        _lastPage = ulong.MaxValue;
        if (flush)
        {
            foreach (Tlb tlb in _allTlbs)
            {
                _flushes.Add(tlb.FlushAll());
            }
            _caches.InvalidateAll();
        }
    }

    /// <summary>
    /// MOV CR3 (Intel SDM Vol. 3A 4.10.4.1): without PCIDs, drops every non-global translation;
    /// with PCIDs, drops the new PCID's translations unless bit 63 of the value is set.
    /// Paging-structure cache entries of that PCID go the same way.
    /// </summary>
    public void LoadCr3(ulong value) => LoadCr3(_current, value);

    /// <summary>INVLPG: drops the page's translations (current PCID and global) and all paging-structure cache entries of the current PCID.</summary>
    public void Invlpg(ulong linearAddress) => Invalidate(_current, linearAddress);

    private void LoadCr3(Context c, ulong value)
    {
        _lastPage = ulong.MaxValue; // the PCID may change even when nothing is flushed
        c.Pml4 = value & PageEntry.AddressMask;
        c.WalkRoot = c.ShadowRootFor?.Invoke(c.Pml4) ?? c.Pml4;
        if (!c.PcidEnabled)
        {
            c.Pcid = 0;
            FlushTlbs(c.Vpid, null, includeGlobal: false);
            _caches.Invalidate(c.Vpid, null);
            return;
        }
        c.Pcid = (ushort)(value & 0xFFF);
        if ((value & (1UL << 63)) == 0)
        {
            FlushTlbs(c.Vpid, c.Pcid, includeGlobal: false);
            _caches.Invalidate(c.Vpid, c.Pcid);
        }
    }

    private void Invalidate(Context c, ulong linearAddress)
    {
        _lastPage = ulong.MaxValue;
        var tag = new TranslationTag(c.Vpid, c.Pcid);
        foreach (Tlb tlb in _allTlbs)
        {
            tlb.InvalidatePage(linearAddress, tag);
        }
        _caches.Invalidate(c.Vpid, c.Pcid);
    }

    /// <summary>Translates one access at <paramref name="linearAddress"/>.</summary>
    public TranslationResult Translate(ulong linearAddress, MemoryAccessKind kind, bool user)
    {
        if (linearAddress >> _lastShift == _lastPage && kind == _lastKind && user == _lastUser)
        {
            _l1Hits.Increment();
            return new TranslationResult(TranslationFault.None, 0, _lastBase | (linearAddress & ((1UL << _lastShift) - 1)), 0, false);
        }
        _lastPage = ulong.MaxValue;
        bool fetch = kind == MemoryAccessKind.Fetch;
        Tlb small = fetch ? _itlbSmall : _dtlbSmall;
        Tlb large = fetch ? _itlbLarge : _dtlbLarge;
        int shift = PageEntry.SmallPageShift;
        bool l1Hit = TryHit(small, shift, linearAddress, kind, user, out ulong pa, out _);
        if (!l1Hit)
        {
            shift = PageEntry.LargePageShift;
            l1Hit = TryHit(large, shift, linearAddress, kind, user, out pa, out _);
        }
        if (l1Hit)
        {
            _l1Hits.Increment();
            (_lastPage, _lastShift, _lastKind, _lastUser, _lastBase) = (linearAddress >> shift, shift, kind, user, pa & ~((1UL << shift) - 1));
            return new TranslationResult(TranslationFault.None, 0, pa, 0, false);
        }
        _l1Misses.Increment();
        if (_stlb is not null)
        {
            shift = PageEntry.SmallPageShift;
            bool hit = TryHit(_stlb, shift, linearAddress, kind, user, out pa, out TlbEntry found);
            if (!hit && _stlbHoldsLarge)
            {
                shift = PageEntry.LargePageShift;
                hit = TryHit(_stlb, shift, linearAddress, kind, user, out pa, out found);
            }
            if (hit)
            {
                _stlbHits.Increment();
                (shift == PageEntry.SmallPageShift ? small : large).Insert(linearAddress, shift, Tag, found);
                return new TranslationResult(TranslationFault.None, 0, pa, _stlbHitCycles, false);
            }
            _stlbMisses.Increment();
        }
        return WalkAndFill(linearAddress, kind, user, small, large);
    }

    private TranslationResult WalkAndFill(ulong linearAddress, MemoryAccessKind kind, bool user, Tlb small, Tlb large)
    {
        WalkResult walk = _current.Walker.Walk(_current.WalkRoot, Tag, linearAddress, kind, user);
        _walks.Increment();
        _walkReferences.Add(walk.References);
        _walkCycles.Add(walk.Cycles);
        if (walk.Fault != TranslationFault.None)
        {
            _faults.Increment();
            return new TranslationResult(walk.Fault, walk.ErrorCode, 0, walk.Cycles, true, walk.GuestPhysicalAddress);
        }
        var entry = new TlbEntry(walk.PageBase, walk.Rights, walk.Global, Dirty: kind == MemoryAccessKind.Write);
        bool isLarge = walk.PageShift == PageEntry.LargePageShift;
        (isLarge ? large : small).Insert(linearAddress, walk.PageShift, Tag, entry);
        if (_stlb is not null && (!isLarge || _stlbHoldsLarge))
        {
            _stlb.Insert(linearAddress, walk.PageShift, Tag, entry);
        }
        ulong offset = linearAddress & ((1UL << walk.PageShift) - 1);
        return new TranslationResult(TranslationFault.None, 0, walk.PageBase | offset, walk.Cycles, true);
    }

    /// <summary>A usable hit: present, with the rights the access needs, and dirty if it writes. A hit that is not usable is dropped.</summary>
    private bool TryHit(Tlb tlb, int shift, ulong linearAddress, MemoryAccessKind kind, bool user, out ulong physicalAddress, out TlbEntry e)
    {
        physicalAddress = 0;
        e = default;
        int slot = tlb.Find(linearAddress, shift, Tag);
        if (slot < 0)
        {
            return false;
        }
        e = tlb.At(slot);
        bool allowed = (!user || e.Rights.User) &&
                       (kind != MemoryAccessKind.Write || (e.Rights.Writable && e.Dirty)) &&
                       (kind != MemoryAccessKind.Fetch || !e.Rights.NoExecute);
        if (!allowed)
        {
            tlb.InvalidatePage(linearAddress, Tag);
            return false;
        }
        physicalAddress = e.PageBase | (linearAddress & ((1UL << shift) - 1));
        return true;
    }

    private void FlushTlbs(byte vpid, ushort? pcid, bool includeGlobal)
    {
        _lastPage = ulong.MaxValue;
        foreach (Tlb tlb in _allTlbs)
        {
            _flushes.Add(tlb.Flush(vpid, pcid, includeGlobal));
        }
    }

    /// <summary>A guest's translation state as attached to the MMU (what its VMCS holds of it): a handle to select it with.</summary>
    public sealed class GuestTranslation
    {
        internal GuestTranslation(Mmu owner, Context context, PhysicalMemory tables, Ept? ept) => (Owner, Context, Tables, Ept) = (owner, context, tables, ept);

        internal Mmu Owner { get; }

        internal Context Context { get; }

        /// <summary>The memory its page tables live in: the guest's, or the host's for shadow tables.</summary>
        internal PhysicalMemory Tables { get; }

        internal Ept? Ept { get; }

        /// <summary>The guest's CR3, whether or not its context is the one the MMU translates with now.</summary>
        public ulong Pml4 => Context.Pml4;
    }

    /// <summary>One translation context: the host's (VMX root or no VMX) or a guest's, with its own CR3, PCID state, VPID and walk.</summary>
    internal sealed class Context(PageWalker walker, byte vpid)
    {
        public PageWalker Walker { get; } = walker;

        public byte Vpid { get; } = vpid;

        public ulong Pml4 { get; set; }

        /// <summary>The table the hardware walks: <see cref="Pml4"/>, or under shadow paging the shadow root for it.</summary>
        public ulong WalkRoot { get; set; }

        public Func<ulong, ulong>? ShadowRootFor { get; init; }

        public ushort Pcid { get; set; }

        public bool PcidEnabled { get; set; }
    }
}
