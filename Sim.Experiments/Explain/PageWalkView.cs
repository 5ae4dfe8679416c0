using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;

namespace Sim.Experiments.Explain;

/// <summary>
/// One entry a walk read: its place in the two-dimensional grid and its cost. <paramref name="Guest"/>
/// is the guest's level whose address it serves (3 = PML4 ... 0 = page table, -1 = the final page);
/// <paramref name="Ept"/> the EPT level read to translate that address (3 ... 0), or -1 for the
/// guest's entry itself (a native or shadow walk has only those).
/// </summary>
public sealed record WalkReference(int Order, int Guest, int Ept, ulong Address, int Cycles);

/// <summary>One walk: its references in order, and the levels the paging-structure caches let it skip.</summary>
/// <param name="SkippedGuest">Guest levels above the walk's start, held by the paging-structure caches.</param>
/// <param name="SkippedEpt">For each guest level (and -1 for the final page), the EPT levels its translation skipped.</param>
public sealed record WalkTrace(IReadOnlyList<WalkReference> References, int SkippedGuest, IReadOnlyDictionary<int, int> SkippedEpt)
{
    public int Cycles => References.Sum(r => r.Cycles);
}

/// <summary>An architecture's walk of one page: on its core without paging-structure caches, with them emptied, and with them warm.</summary>
/// <param name="Tables">What the hardware walks: the guest's tables through the EPT (nested), the monitor's shadow tables, or the process's own.</param>
/// <param name="Uncached">The walk on the same core without paging-structure caches (the profile's sizes set to 0): every entry read, the textbook's grid.</param>
/// <param name="Cold">The walk with every TLB and paging-structure cache emptied first: the caches fill as it goes, so its later EPT walks start lower.</param>
/// <param name="Warm">The walk again with only the TLBs emptied: the caches hold the upper levels.</param>
public sealed record ArchitectureWalk(string Name, string Mmu, string Tables, WalkTrace Uncached, WalkTrace Cold, WalkTrace Warm);

/// <summary>
/// The lecture page's two-dimensional page walk (<c>virtsim serve</c>): under each architecture,
/// the machine's own walker translating the nanobenchmarks' data page (a 4 KiB page the guest
/// kernel maps: <c>ptemod</c>'s, after three iterations of it have run) three ways. Without
/// paging-structure caches a nested walk is the grid of Bhargava et al. (ASPLOS 2008): each of the
/// guest's four entries needs its address translated by a four-level EPT walk first, and so does
/// the final page, 24 references. With the caches emptied, the walk fills them as it goes (the
/// guest's tables lie close together, so the EPT entries above them are read once); with them warm,
/// most references are skipped. A shadow walk reads the monitor's four entries, as a native walk
/// reads the process's.
/// </summary>
public static class PageWalkView
{
    /// <summary>The workload whose data page is walked: its page is mapped with 4 KiB pages in every architecture that runs nanobenchmarks.</summary>
    public static IWorkload Workload => Nanobenchmark.All.First(n => n.Name == "ptemod");

    /// <summary>The walks under <paramref name="axes"/> on <paramref name="profile"/>.</summary>
    public static ArchitectureWalk Of(HardwareProfile profile, VirtualizationAxes axes)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(axes);
        WalkTrace[] cached = Walks(profile, axes, keepCaches: [false, true]);
        WalkTrace uncached = Walks(profile with { PagingStructureCaches = PagingStructureCacheGeometry.None }, axes, keepCaches: [false])[0];
        string tables = axes.Mmu switch
        {
            MmuVirtualization.Nested => "the guest's tables, each address through the EPT",
            MmuVirtualization.Shadow => "the monitor's shadow tables",
            _ => axes.IsNative ? "the process's tables" : "the guest's own tables",
        };
        return new ArchitectureWalk(Explanation.NameOf(axes, profile), AxisNames.Of(axes.Mmu), tables, uncached, cached[0], cached[1]);
    }

    /// <summary>Runs the workload on <paramref name="profile"/>, then walks its data page once for each of <paramref name="keepCaches"/>: the TLBs emptied first, and the paging-structure caches too unless kept.</summary>
    private static WalkTrace[] Walks(HardwareProfile profile, VirtualizationAxes axes, bool[] keepCaches)
    {
        WorkloadRun.PreparedRun run = WorkloadRun.Prepare(profile, Workload, 3, seed: 1, axes: axes);
        run.Execute();
        Mmu mmu = run.FirstGuestCpus[0].Mmu;
        if (!axes.IsNative && axes.Hosting != Hosting.SharedKernel)
        {
            mmu.EnterGuest(); // the guest's translations, as at its next instruction
        }
        return [.. keepCaches.Select(keep =>
        {
            mmu.FlushEverything(keep);
            var recorder = new Recorder();
            mmu.TraceWalks(recorder);
            mmu.Translate(WorkloadContext.DataBase, MemoryAccessKind.Read, user: false);
            mmu.TraceWalks(null);
            return recorder.Trace();
        })];
    }

    /// <summary>Puts each reference in its cell as it comes: EPT reads belong to the guest entry read after them, or to the final page after the last.</summary>
    private sealed class Recorder : IWalkTracer
    {
        private readonly List<WalkReference> _references = [];
        private readonly List<(int Level, ulong Address, int Cycles)> _ept = []; // the translation under way, not yet given its guest level
        private readonly SortedDictionary<int, int> _skippedEpt = [];
        private int _guestStart = 3;
        private int? _eptStart;

        public void Starts(bool ept, int level)
        {
            if (ept)
            {
                _eptStart = level;
            }
            else
            {
                _guestStart = level;
            }
        }

        public void Reads(bool ept, int level, ulong address, int cycles)
        {
            if (ept)
            {
                _ept.Add((level, address, cycles));
                return;
            }
            Place(level); // the EPT reads that translated this entry's address, then the entry itself
            _references.Add(new WalkReference(_references.Count + 1, level, -1, address, cycles));
        }

        private void Place(int guestLevel)
        {
            foreach (var e in _ept)
            {
                _references.Add(new WalkReference(_references.Count + 1, guestLevel, e.Level, e.Address, e.Cycles));
            }
            _ept.Clear();
            if (_eptStart is { } start)
            {
                _skippedEpt[guestLevel] = 3 - start;
                _eptStart = null;
            }
        }

        public WalkTrace Trace()
        {
            Place(-1); // the final page's translation
            return new WalkTrace(_references, 3 - _guestStart, _skippedEpt);
        }
    }
}
