using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;

namespace Sim.Models.Virtualization;

/// <summary>
/// The translation cache of a binary-translating monitor (VMware's classic VMM, Adams and Agesen,
/// ASPLOS 2006, section 3.2), in the monitor's memory: the compiled code fragments the translator
/// made from guest kernel code, the table that maps a guest address to its fragment, and which
/// fragments are chained. It decides what entering a line of guest kernel code costs in
/// translated code, and writes the monitor's work for it as operations
/// (<see cref="SoftwareMonitor"/> runs them on the core):
/// <list type="bullet">
/// <item>a line not yet translated is translated: a callout into the translator, which reads the
/// guest's code through the guest's page tables, decodes and emits each instruction, and writes the
/// fragment into the cache and its entry into the table;</item>
/// <item>a fall-through or a direct call or jump goes straight to the target's fragment once the
/// jump is chained; until then the jump is a continuation that calls the translator's dispatch,
/// which patches it ("execute once"); a fall-through into the fragment placed right after needs no
/// jump at all (the chaining jump elided);</item>
/// <item>a return, an indirect call and an entry from the monitor cannot be chained: translated
/// code looks the target up in the table every time.</item>
/// </list>
/// Translated code is fetched from the fragment's addresses in the cache, not the guest's.
/// </summary>
/// <remarks>
/// Model: the unit of translation is the 64-byte line the kernel's code is fetched by (16
/// instructions; [AA06]'s units stop at 12 instructions or a control transfer). A fragment is the
/// line's instructions translated identically (4 bytes each, <see cref="CodeLayout{TRoutine}"/>)
/// and two 5-byte exits (a conditional branch's taken and fall-through jumps, [AA06]'s example);
/// the in-cache emulations and the callouts of sensitive instructions are one shared copy each in
/// the monitor's text, not a copy per site. Chaining is per target: the first direct entry into a
/// fragment is chained, whichever jump it came by (the callers' code is not modelled line by line).
/// The frames translated code came from are traced (<see cref="ShadowPageTables.TraceCode"/>): a
/// guest write to one drops its translations (<see cref="Invalidate"/>).
/// When the cache is full it is flushed whole and the table cleared (as Dynamo, Bala et al., PLDI
/// 2000, flushes its fragment cache; [AA06] do not say how VMware's monitor frees room: assumed).
/// The lookup table has 4,096 entries of 16 bytes (a guest address and its translation), assumed.
/// </remarks>
public sealed class TranslationCache
{
    /// <summary>Bytes of a fragment's exits: two JMP rel32, the taken and the fall-through continuations of a translated conditional branch [AA06].</summary>
    public const int ExitBytes = 10;

    /// <summary>Faults on traced writes after which an instruction's translation is adapted (assumed: [AA06] say only that the translator adapts instructions that fault often).</summary>
    public const int AdaptAfterFaults = 3;

    /// <summary>Entries of the lookup table (assumed).</summary>
    public const int TableEntries = 1 << 12;

    private const int EntryBytes = 16;
    private const int LineBytes = CodeLayout<HypervisorRoutine>.LineBytes;

    /// <summary>A fragment's bytes: one line of guest code translated identically, and its exits.</summary>
    public const int FragmentBytes = LineBytes + ExitBytes;

    private readonly ulong _linearBase;
    private readonly ulong _cache; // host-physical start of the cache
    private readonly ulong _table; // host-physical start of the lookup table
    private readonly ulong _capacity;
    private readonly Dictionary<ulong, Fragment> _fragments = [];
    private readonly Dictionary<CodeSite, int> _tracedFaults = [];
    private readonly Dictionary<ulong, List<ulong>> _linesOf = []; // guest code frame -> the lines translated from it
    private readonly Counter _invalidations;
    private readonly HashSet<CodeSite> _adapted = [];
    private readonly Counter _retranslations;
    private readonly Counter _adaptedWrites;
    private readonly Counter _translations;
    private readonly Counter _lookups;
    private readonly Counter _chains;
    private readonly Counter _jumps;
    private readonly Counter _flushes;
    private ulong _used;
    private ulong? _current; // the guest line whose fragment control is in; null when it last came from the monitor or a return
    private bool _fromMonitor = true; // the next entry is the monitor's dispatch into translated code
    private ulong? _prepared; // the line the monitor's work just made ready: its retried fetch goes straight in

    private sealed class Fragment(ulong address)
    {
        public ulong Address { get; } = address;

        public bool Chained { get; set; }
    }

    /// <param name="memory">Where the cache and its table are placed (host memory).</param>
    /// <param name="linearBase">Where the monitor maps host memory: translated code runs from <paramref name="linearBase"/> plus its physical address.</param>
    public TranslationCache(PhysicalMemory memory, ulong linearBase, int capacityBytes, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(stats);
        if (capacityBytes < FragmentBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityBytes), capacityBytes, $"The translation cache holds at least one fragment ({FragmentBytes} bytes).");
        }
        _linearBase = linearBase;
        _capacity = (ulong)capacityBytes;
        _cache = memory.AllocateContiguous(_capacity);
        _table = memory.AllocateContiguous(TableEntries * EntryBytes);
        _translations = stats.Counter("translations", "count", "guest kernel code lines translated into fragments");
        _lookups = stats.Counter("lookups", "count", "indirect targets looked up in the table (returns, indirect calls, entries from the monitor)");
        _chains = stats.Counter("chains", "count", "continuations that chained a direct jump to its target's fragment");
        _jumps = stats.Counter("chained_jumps", "count", "fall-throughs that took a chained jump (the next line's fragment not placed right after)");
        _flushes = stats.Counter("flushes", "count", "times the full cache was emptied");
        _retranslations = stats.Counter("retranslations", "count", "lines translated again to call out for a write that kept faulting on a traced page (adaptive translation)");
        _invalidations = stats.Counter("invalidations", "count", "translations dropped because the guest wrote the code they were made from");
        _adaptedWrites = stats.Counter("adapted_writes", "count", "writes an adapted translation handed to the monitor without a fault");
    }

    /// <summary>What entering a line of translated code takes.</summary>
    internal enum Route
    {
        /// <summary>Straight into its fragment: a fall-through into the fragment placed after, a chained jump or call, or a retry after the monitor's work.</summary>
        Straight,

        /// <summary>A chained jump: a fall-through whose fragment is elsewhere in the cache.</summary>
        ChainedJump,

        /// <summary>A continuation: the jump is not chained yet.</summary>
        Continuation,

        /// <summary>A lookup in the table.</summary>
        Lookup,
    }

    /// <summary>How control reaching guest line <paramref name="line"/> by <paramref name="entry"/> gets into its translation.</summary>
    internal Route RouteTo(ulong line, ControlTransfer entry)
    {
        if (_prepared == line)
        {
            return Route.Straight;
        }
        if (_fromMonitor || entry == ControlTransfer.IndirectCall)
        {
            return Route.Lookup;
        }
        if (!_fragments.TryGetValue(line, out Fragment? target) || !target.Chained)
        {
            return Route.Continuation;
        }
        if (entry == ControlTransfer.Sequential && _current is { } from && from + LineBytes == line
            && _fragments.TryGetValue(from, out Fragment? before) && before.Address + FragmentBytes != target.Address)
        {
            return Route.ChainedJump;
        }
        return Route.Straight;
    }

    /// <summary>Control is in <paramref name="line"/>'s fragment: where it is fetched from (its linear address in the cache).</summary>
    internal ulong Run(ulong line, Route route)
    {
        if (route == Route.ChainedJump)
        {
            _jumps.Increment();
        }
        _prepared = null;
        _current = line;
        _fromMonitor = false;
        return _linearBase + _fragments[line].Address;
    }

    /// <summary>Whether <paramref name="line"/> has a fragment.</summary>
    internal bool Holds(ulong line) => _fragments.ContainsKey(line);

    /// <summary>
    /// Translated code looks <paramref name="target"/> up in the table (<see cref="HypervisorRoutine.IndirectLookup"/>
    /// and the entry's line); with <paramref name="prepares"/> the fetch of that line is retried after.
    /// </summary>
    internal void Lookup(HypervisorPath path, ulong target, bool prepares)
    {
        _lookups.Increment();
        path.Run(HypervisorRoutine.IndirectLookup).LoadWords(EntryOf(target), 1);
        if (prepares)
        {
            _prepared = target;
        }
    }

    /// <summary>
    /// The translator makes <paramref name="line"/>'s fragment: the unit's set-up, each
    /// instruction decoded and emitted, the fragment written into the cache line by line and its
    /// entry into the table (the guest's code is read by the caller). A full cache is flushed first.
    /// </summary>
    internal void Translate(HypervisorPath path, ulong line, ulong guestPhysical)
    {
        Place(path, line);
        ulong frame = guestPhysical >> PhysicalMemory.FrameShift;
        if (!_linesOf.TryGetValue(frame, out List<ulong>? lines))
        {
            _linesOf[frame] = lines = [];
        }
        lines.Add(line);
        _prepared = line;
    }

    /// <summary>
    /// The guest wrote the code frame at <paramref name="guestPhysical"/>: every translation of its
    /// lines is dropped (their table entries cleared; the fragments' room is not reused until a
    /// flush), so that the code is translated again when control next reaches it.
    /// </summary>
    internal void Invalidate(HypervisorPath path, ulong guestPhysical)
    {
        if (!_linesOf.Remove(guestPhysical >> PhysicalMemory.FrameShift, out List<ulong>? lines))
        {
            return;
        }
        foreach (ulong line in lines)
        {
            if (_fragments.Remove(line))
            {
                _invalidations.Increment();
                path.StoreWords(EntryOf(line), 1);
            }
            _adapted.RemoveWhere(site => site.Line == line);
            if (_current == line)
            {
                _current = null;
            }
        }
    }

    private Fragment Place(HypervisorPath path, ulong line)
    {
        if (_used + FragmentBytes > _capacity)
        {
            Flush(path);
        }
        var fragment = new Fragment(_cache + _used);
        _used += FragmentBytes;
        _fragments[line] = fragment;
        _translations.Increment();
        path.Run(HypervisorRoutine.TranslateUnit).Run(HypervisorRoutine.TranslateInstruction, CodeLayout<HypervisorRoutine>.InstructionsPerLine);
        for (ulong at = fragment.Address & ~(ulong)(LineBytes - 1); at < fragment.Address + FragmentBytes; at += LineBytes)
        {
            path.StoreWords(at, 1); // the fragment's bytes, a line at a time
        }
        path.StoreWords(EntryOf(line), 1);
        return fragment;
    }

    /// <summary>
    /// An instruction at <paramref name="site"/> of translated code faulted on a write to a page the
    /// monitor traces: whether this fault makes it one to adapt (the <see cref="AdaptAfterFaults"/>-th),
    /// after which <see cref="Adapt"/> retranslates its line.
    /// </summary>
    internal bool TracedWriteFaulted(CodeSite site)
    {
        site = Normalized(site);
        if (!_fragments.ContainsKey(site.Line) || _adapted.Contains(site))
        {
            return false;
        }
        int faults = _tracedFaults.GetValueOrDefault(site) + 1;
        _tracedFaults[site] = faults;
        return faults >= AdaptAfterFaults;
    }

    /// <summary>
    /// Adaptive binary translation [AA06, section 3.3]: the line holding <paramref name="site"/> is
    /// translated again with that instruction as a call to the monitor's emulation of the write,
    /// and the old fragment's entry patched to jump to the new one (the guest's code is read by the caller).
    /// </summary>
    internal void Adapt(HypervisorPath path, CodeSite site)
    {
        site = Normalized(site);
        Fragment old = _fragments[site.Line];
        _tracedFaults.Remove(site);
        _adapted.Add(site);
        _retranslations.Increment();
        Place(path, site.Line).Chained = old.Chained; // jumps chained to the old fragment reach the new one through the patch
        path.StoreWords(old.Address, 1);
    }

    /// <summary>Whether the instruction at <paramref name="site"/> runs an adapted translation: a call to the monitor for its write (counted).</summary>
    internal bool Adapted(CodeSite site)
    {
        if (_adapted.Count == 0 || !_adapted.Contains(Normalized(site)))
        {
            return false;
        }
        _adaptedWrites.Increment();
        return true;
    }

    private static CodeSite Normalized(CodeSite site) => site with { Line = site.Line & ~(ulong)(LineBytes - 1) };

    /// <summary>The continuation's dispatch chains the jump into <paramref name="line"/>'s fragment: the jump of the fragment control came from is patched (the target's own entry when it came from code not modelled).</summary>
    internal void Chain(HypervisorPath path, ulong line)
    {
        _chains.Increment();
        path.Run(HypervisorRoutine.ChainContinuation).LoadWords(EntryOf(line), 1);
        Fragment target = _fragments[line];
        target.Chained = true;
        ulong patched = _current is { } from && _fragments.TryGetValue(from, out Fragment? source) ? source.Address + LineBytes : target.Address;
        path.StoreWords(patched, 1);
        _prepared = line;
    }

    /// <summary>A return out of the routine whose fragment control is in: its target is looked up (the caller's code stands at the returning line's entry).</summary>
    internal void Return(HypervisorPath path)
    {
        Lookup(path, _current ?? 0, prepares: false);
        _current = null;
    }

    /// <summary>Control left translated code for the monitor, which will come back into it by a lookup (an event reflected to the guest kernel, a return to guest user mode emulated).</summary>
    public void LeftForMonitor()
    {
        _current = null;
        _fromMonitor = true;
        _prepared = null;
    }

    private void Flush(HypervisorPath path)
    {
        _flushes.Increment();
        _fragments.Clear();
        _tracedFaults.Clear();
        _adapted.Clear();
        _linesOf.Clear();
        _used = 0;
        _current = null;
        path.ZeroLines(_table, TableEntries * EntryBytes);
    }

    /// <summary>The table entry of guest address <paramref name="line"/>: hashed by its line number (Fibonacci hashing, as Linux's hash_64).</summary>
    private ulong EntryOf(ulong line) => _table + (((line / LineBytes) * 0x61C8864680B583EB) >> (64 - 12)) * EntryBytes;
}
