using Sim.Engine.Randomness;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Memory;

namespace Sim.Models.Virtualization;

/// <summary>
/// Kernel same-page merging on a KVM-like host (Linux's KSM, mm/ksm.c; QEMU registers each guest's
/// memory with madvise(MADV_MERGEABLE)): ksmd wakes every <see cref="SleepMilliseconds"/>, scans
/// the next <see cref="PagesToScan"/> backed guest pages, VM after VM in address order, and merges
/// pages of equal contents into one write-protected KSM page. Each page goes through
/// cmp_and_merge_page's steps: a search of the stable tree (the KSM pages, by content), and if
/// that finds its twin, a merge; otherwise its checksum (jhash2), and only if the checksum is the
/// one the last pass saw (the page did not change in between), a search of the unstable tree
/// (this pass's candidates), whose twin makes the pair a new KSM page. The unstable tree is
/// emptied at the end of each full pass. A guest's write to a merged page is an EPT violation:
/// the host copies the page and maps the copy writable (<see cref="BreakOnWrite"/>).
/// </summary>
/// <remarks>
/// Model: pages are compared by their content labels (<see cref="PhysicalMemory.ContentOf"/>): a
/// file's page read into the page cache and the kernel's code are equal across guests of one
/// image; everything else a guest writes is private data, equal to nothing (which understates
/// sharing of, say, equal zeroed or initialized data). The trees are not built node by node: a
/// search costs the steps of a balanced tree of the tree's size (each a <see cref="HypervisorRoutine.KsmTreeStep"/>
/// and the scanned page's first line), and a search that finds the twin compares both pages
/// whole. Pages that could never match (private) are counted in the unstable tree's size, not
/// stored. ksmd runs in the host's handler of its wake-up interrupt on its CPU, taking that CPU
/// from whatever ran there for the batch, as CFS's wakeup preemption gives a waking ksmd the CPU;
/// the model has no scheduling entity for it, so its time is not charged to a virtual CPU's share.
/// </remarks>
internal sealed class SamePageMerging
{
    /// <summary>The vector of ksmd's wake-up on the host CPU it runs on; it stands for the local-timer interrupt whose timer expiry wakes ksmd (a vector of its own here, so that the scheduler's tick accounting does not see it).</summary>
    public const int WakeVector = 0xEB;

    private const ulong PageBytes = PhysicalMemory.FrameBytes;

    private readonly List<MmSlot> _slots = []; // the registered VMs, in order
    private readonly Dictionary<ulong, KsmPage> _stable = []; // by content: looked up, never iterated
    private readonly Dictionary<ulong, (MmSlot Slot, ulong Gpa)> _unstable = []; // this pass's candidates with a label, by content
    private readonly Dictionary<(int Vm, ulong Page), KsmPage> _merged = []; // each merged guest page's KSM page (its rmap_item in the stable tree)
    private readonly Dictionary<ulong, (MmSlot Slot, ulong Gpa)> _booted = []; // a page of each content the VMs' boots wrote that no other has matched yet, by content (SettleAtBoot)
    private long _unstableSize; // every page this pass put in the unstable tree, private ones too: the tree's size for its searches
    private int _vm;            // the scan's cursor: the VM (mm_slot) and its next page
    private ulong _page;

    private readonly Counter _scanned;
    private readonly Counter _fullScans;
    private readonly Counter _merges;
    private readonly Counter _cowBreaks;
    private readonly Counter _unmapped;
    private readonly Counter _scanCycles;

    /// <param name="pagesToScan">Pages each batch scans (/sys/kernel/mm/ksm/pages_to_scan).</param>
    /// <param name="sleepMilliseconds">ksmd's sleep between batches (sleep_millisecs).</param>
    public SamePageMerging(PhysicalMemory host, int pagesToScan, double sleepMilliseconds, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentOutOfRangeException.ThrowIfLessThan(pagesToScan, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sleepMilliseconds);
        Host = host;
        PagesToScan = pagesToScan;
        SleepMilliseconds = sleepMilliseconds;
        _scanned = stats.Counter("pages_scanned", "count", "guest pages ksmd scanned");
        _fullScans = stats.Counter("full_scans", "count", "passes of ksmd over every backed page of every VM");
        _merges = stats.Counter("merges", "count", "guest pages mapped onto a KSM page (their own frame freed)");
        _cowBreaks = stats.Counter("cow_breaks", "count", "writes to a merged page that copied it back to a frame of its own");
        _unmapped = stats.Counter("unmapped", "count", "merged guest pages the guest gave up (its balloon), their mapping of the KSM page dropped");
        _scanCycles = stats.Counter("scan_cycles", "cycles", "host CPU cycles ksmd's batches took");
        stats.Probe("pages_shared", "count", "KSM pages: frames that hold a content several guest pages map", () => _stable.Count);
        stats.Probe("pages_sharing", "count", "guest pages mapped onto a KSM page beyond its first: the frames merging saves", () => _merged.Count - _stable.Count);
    }

    public PhysicalMemory Host { get; }

    public int PagesToScan { get; }

    public double SleepMilliseconds { get; }

    /// <summary>ksmd's sleep as simulated time.</summary>
    public Tick Sleep => Tick.FromNanoseconds((ulong)(SleepMilliseconds * 1e6));

    /// <summary>Registers <paramref name="vm"/>'s memory as mergeable (QEMU's madvise(MADV_MERGEABLE) on guest RAM): ksmd scans it after the VMs registered before.</summary>
    public void Register(VirtualMachine vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        vm.Merging = this;
        _slots.Add(new MmSlot(vm, new ulong[vm.Memory.SizeBytes / PageBytes]));
    }

    /// <summary>Whether the guest page of <paramref name="gpa"/> is mapped onto a KSM page.</summary>
    public bool IsMerged(VirtualMachine vm, ulong gpa) => _merged.ContainsKey((vm.Index, gpa / PageBytes));

    /// <summary>Records the host cycles a batch took.</summary>
    public void Ran(long cycles) => _scanCycles.Add(cycles);

    /// <summary>
    /// One batch of ksmd (ksm_do_scan): the next <see cref="PagesToScan"/> backed pages through
    /// cmp_and_merge_page, their work added to <paramref name="path"/>; merged pages' EPT entries
    /// rewritten and their VMs' translations flushed.
    /// </summary>
    public void Scan(HypervisorPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        for (int n = 0; n < PagesToScan && NextBackedPage(out MmSlot? slot, out ulong gpa); n++)
        {
            _scanned.Increment();
            path.Run(HypervisorRoutine.KsmScanPage);
            CompareAndMerge(path, slot, gpa);
        }
        foreach (MmSlot slot in _slots.Where(s => s.Merged))
        {
            slot.Merged = false;
            slot.Vm.FlushTranslations(); // once per batch, as ksmd's merges batch their flushes per mm
        }
    }

    /// <summary>
    /// The next backed page after the cursor, the cursor moved past it; at the end of the last VM
    /// a full pass is done and the unstable tree emptied. False when no VM has a backed page.
    /// </summary>
    private bool NextBackedPage(out MmSlot slot, out ulong gpa)
    {
        for (int wrapped = 0; wrapped < 2;)
        {
            if (_vm >= _slots.Count)
            {
                EndPass();
                wrapped++;
                continue;
            }
            slot = _slots[_vm];
            ulong pages = slot.Vm.Memory.SizeBytes / PageBytes;
            while (_page < pages)
            {
                gpa = _page++ * PageBytes;
                if (slot.Vm.BackingOf(gpa) != 0)
                {
                    return true;
                }
            }
            (_vm, _page) = (_vm + 1, 0);
        }
        (slot, gpa) = (null!, 0);
        return false;
    }

    private void EndPass()
    {
        _fullScans.Increment();
        _unstable.Clear();
        _unstableSize = 0;
        (_vm, _page) = (0, 0);
    }

    /// <summary>cmp_and_merge_page for one page; a VM whose page it merged is marked for the batch's flush.</summary>
    private void CompareAndMerge(HypervisorPath path, MmSlot slot, ulong gpa)
    {
        VirtualMachine vm = slot.Vm;
        ulong page = gpa / PageBytes;
        if (_merged.ContainsKey((vm.Index, page)))
        {
            return; // already a KSM page's: its stable node is found at once
        }
        ulong frame = vm.BackingOf(gpa);
        ulong content = vm.Memory.ContentOf(gpa);
        KsmPage? twin = content != 0 ? _stable.GetValueOrDefault(content) : null;
        Search(path, frame, _stable.Count, twin?.Frame);
        if (twin is not null)
        {
            Merge(path, vm, gpa, twin);
            slot.Merged = true;
            return;
        }
        path.Run(HypervisorRoutine.KsmChecksum).LoadLines(frame, PageBytes);
        ulong checksum = Checksum(vm, page, content);
        ref ulong seen = ref slot.Checksums[page];
        if (seen != checksum)
        {
            seen = checksum; // new or changed since the last pass: not a candidate yet
            return;
        }
        (MmSlot Slot, ulong Gpa)? candidate = content != 0 && _unstable.TryGetValue(content, out var found) && Still(found.Slot.Vm, found.Gpa, content) ? found : null;
        Search(path, frame, _unstableSize, candidate is { } c ? c.Slot.Vm.BackingOf(c.Gpa) : null);
        if (candidate is not { } other)
        {
            if (content != 0)
            {
                _unstable[content] = (slot, gpa);
            }
            _unstableSize++;
            return;
        }
        _unstable.Remove(content);
        MergePair(path, other.Slot, other.Gpa, slot, gpa, content);
    }

    /// <summary>
    /// try_to_merge_two_pages: the page of <paramref name="first"/> (found in the unstable tree)
    /// becomes a new KSM page (stable_tree_insert), then <paramref name="second"/>'s joins it; both
    /// VMs marked for the batch's flush. Untimed where <paramref name="path"/> is null.
    /// </summary>
    private void MergePair(HypervisorPath? path, MmSlot first, ulong firstGpa, MmSlot second, ulong secondGpa, ulong content)
    {
        var kpage = new KsmPage(first.Vm.BackingOf(firstGpa), content);
        if (path is not null)
        {
            Search(path, kpage.Frame, _stable.Count, null);
        }
        _stable.Add(content, kpage);
        ulong entry = Rebind(path, first.Vm, firstGpa, kpage.Frame, writable: false);
        path?.Run(HypervisorRoutine.KsmMerge).StoreWords(entry, 1);
        Join(first.Vm, firstGpa, kpage);
        first.Merged = true;
        Merge(path, second.Vm, secondGpa, kpage);
        second.Merged = true;
    }

    /// <summary>
    /// The pages <paramref name="gpas"/> that <paramref name="vm"/>'s boot wrote, merged as ksmd's
    /// passes in the minutes after the boot would have merged them, before the run begins (a
    /// settled host: at Linux's default rate a pass over a guest's boot footprint takes seconds to
    /// minutes, far longer than a run). Each page of a content another VM's boot already holds
    /// joins its KSM page, or with that VM's page makes one; the merges are counted (merges) but
    /// their scanning is not charged to a CPU. The scan of the run starts afresh.
    /// </summary>
    public void SettleAtBoot(VirtualMachine vm, IReadOnlyList<ulong> gpas)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(gpas);
        MmSlot slot = _slots.Single(s => s.Vm == vm);
        foreach (ulong gpa in gpas)
        {
            ulong content = vm.Memory.ContentOf(gpa);
            if (content == 0 || IsMerged(vm, gpa))
            {
                continue;
            }
            if (_stable.TryGetValue(content, out KsmPage? twin))
            {
                Merge(null, vm, gpa, twin);
            }
            else if (_booted.TryGetValue(content, out var other) && Still(other.Slot.Vm, other.Gpa, content))
            {
                _booted.Remove(content);
                MergePair(null, other.Slot, other.Gpa, slot, gpa, content);
            }
            else
            {
                _booted[content] = (slot, gpa);
            }
        }
        foreach (MmSlot merged in _slots.Where(s => s.Merged))
        {
            merged.Merged = false;
            merged.Vm.FlushTranslations();
        }
    }

    /// <summary>Whether an unstable-tree entry still holds <paramref name="content"/>, backed and unmerged (its page may have been freed, rewritten or merged since).</summary>
    private bool Still(VirtualMachine vm, ulong gpa, ulong content) =>
        vm.BackingOf(gpa) != 0 && vm.Memory.ContentOf(gpa) == content && !_merged.ContainsKey((vm.Index, gpa / PageBytes));

    /// <summary>A page's checksum as jhash2 would give it: its content's, or for private data one of its own; never 0 (the mark of no checksum yet).</summary>
    private static ulong Checksum(VirtualMachine vm, ulong page, ulong content) =>
        (content != 0 ? content : StableHash.Combine((ulong)vm.Index + 1, page)) | 1;

    /// <summary>
    /// A search of a tree of <paramref name="size"/> pages for the page at <paramref name="frame"/>:
    /// each step compares its first line with a node's; a search that ends at its twin
    /// (<paramref name="twin"/>) compares both pages whole at the last step.
    /// </summary>
    private static void Search(HypervisorPath path, ulong frame, long size, ulong? twin)
    {
        int steps = size == 0 ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)size); // a balanced tree's depth
        for (int s = 0; s < steps; s++)
        {
            path.Run(HypervisorRoutine.KsmTreeStep).LoadLines(frame, (ulong)CodeLayout<HypervisorRoutine>.LineBytes);
        }
        if (twin is { } other)
        {
            path.Run(HypervisorRoutine.KsmPageCompare).LoadLines(frame, PageBytes).LoadLines(other, PageBytes);
        }
    }

    /// <summary>try_to_merge_with_ksm_page: the guest page mapped read-only onto the KSM page and its own frame freed (untimed where <paramref name="path"/> is null).</summary>
    private void Merge(HypervisorPath? path, VirtualMachine vm, ulong gpa, KsmPage kpage)
    {
        ulong own = vm.BackingOf(gpa);
        ulong entry = Rebind(path, vm, gpa, kpage.Frame, writable: false);
        path?.Run(HypervisorRoutine.KsmMerge).StoreWords(entry, 1);
        Host.FreeFrame(own);
        Join(vm, gpa, kpage);
    }

    /// <summary>
    /// The guest page of <paramref name="gpa"/> mapped onto <paramref name="frame"/>
    /// (<see cref="VirtualMachine.Rebind"/>); a page of a 2 MiB region the host backs with one huge
    /// page splits the region first, as try_to_merge_one_page splits a transparent huge page before
    /// it merges one of its pages. Untimed where <paramref name="path"/> is null. Returns the entry's address.
    /// </summary>
    private static ulong Rebind(HypervisorPath? path, VirtualMachine vm, ulong gpa, ulong frame, bool writable)
    {
        if (vm.IsHugeMapped(gpa))
        {
            ulong zapped = vm.SplitHugeRegion(gpa);
            path?.Run(HypervisorRoutine.HugePageSplit).StoreWords(zapped, 1);
        }
        ulong entry = vm.Rebind(gpa, frame, writable);
        Hypervisor.LinkNewTables(vm, path);
        return entry;
    }

    private void Join(VirtualMachine vm, ulong gpa, KsmPage kpage)
    {
        kpage.Mappers++;
        _merged.Add((vm.Index, gpa / PageBytes), kpage);
        _merges.Increment();
    }

    /// <summary>
    /// A guest's write to its merged page at <paramref name="gpa"/> (an EPT violation on the
    /// read-only entry): the KSM page copied to a new frame of the VM's, mapped writable; the page
    /// is private data from then on (the write changes it). The KSM page goes with its last mapping.
    /// </summary>
    public void BreakOnWrite(VirtualMachine vm, HypervisorPath path, ulong gpa)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(path);
        path.Run(HypervisorRoutine.KsmCopyOnWrite);
        (ulong from, ulong to, ulong entry) = Unshare(vm, gpa);
        path.CopyLines(from, to, PageBytes).StoreWords(entry, 1);
        vm.Memory.SetContent(gpa, 0);
    }

    /// <summary>
    /// The guest kernel names new contents for a page. New data (a file's page read in by a
    /// device's DMA, code laid out) arrives without a CPU's write through the EPT, so a merged page
    /// gets a frame of its own first, as the host's write through the VMM's mapping would fault it
    /// out of the KSM page; the copy's cost is not charged to any CPU (the model's devices write no
    /// data). Private data (<paramref name="content"/> 0) is written by the CPU, whose write to a
    /// merged page takes the EPT violation (<see cref="BreakOnWrite"/>).
    /// </summary>
    public void ContentChanging(VirtualMachine vm, ulong gpa, ulong content)
    {
        if (content != 0 && IsMerged(vm, gpa))
        {
            Unshare(vm, gpa);
        }
    }

    private (ulong From, ulong To, ulong Entry) Unshare(VirtualMachine vm, ulong gpa)
    {
        ulong page = gpa / PageBytes;
        if (!_merged.Remove((vm.Index, page), out KsmPage? kpage))
        {
            throw new InvalidOperationException($"{vm.Name}: guest-physical 0x{gpa:X} is not a merged page.");
        }
        ulong own = vm.NewHostFrame(gpa);
        ulong entry = Rebind(null, vm, gpa, own, writable: true); // a merged page: its region was split when it merged
        Drop(kpage);
        _cowBreaks.Increment();
        vm.FlushTranslations();
        return (kpage.Frame, own, entry);
    }

    /// <summary>The guest gave up a merged page (its balloon): its mapping of the KSM page dropped, the EPT entry already cleared by the caller. True if the page was merged.</summary>
    public bool Unmap(VirtualMachine vm, ulong gpa)
    {
        if (!_merged.Remove((vm.Index, gpa / PageBytes), out KsmPage? kpage))
        {
            return false;
        }
        Drop(kpage);
        _unmapped.Increment();
        return true;
    }

    /// <summary>One mapping of a KSM page fewer; with none left its stable node goes and its frame is freed.</summary>
    private void Drop(KsmPage kpage)
    {
        if (--kpage.Mappers == 0)
        {
            _stable.Remove(kpage.Content);
            Host.FreeFrame(kpage.Frame);
        }
    }

    /// <summary>A registered VM (ksm's mm_slot): each guest page's checksum at its last scan (rmap_item->oldchecksum, 0 for none yet), and whether this batch merged one of its pages.</summary>
    private sealed class MmSlot(VirtualMachine vm, ulong[] checksums)
    {
        public VirtualMachine Vm { get; } = vm;

        public ulong[] Checksums { get; } = checksums;

        public bool Merged { get; set; }
    }

    /// <summary>A KSM page: the frame several guest pages of one content map read-only (its stable node).</summary>
    private sealed class KsmPage(ulong frame, ulong content)
    {
        public ulong Frame { get; } = frame;

        public ulong Content { get; } = content;

        public int Mappers { get; set; }
    }
}
