namespace Sim.Models.Hardware;

/// <summary>
/// What one hardware thread of a core running several (SMT, Intel's Hyper-Threading) has of the
/// core's resources. The caches are shared whole (Intel SDM Vol. 3A, 8.7.13.1: the caches of a
/// Hyper-Threading core are shared by its logical processors), and so are the issue slots
/// (<see cref="CoreTiming.IssueWidth"/>), which the core splits while both threads run
/// (<see cref="Cpu.Core.Sibling"/>). The store buffer is partitioned between the threads ([OPT],
/// Intel Hyper-Threading Technology implementation of the Nehalem microarchitecture: load and
/// store buffers and the reorder buffer are partitioned), and so are the TLBs here: Nehalem
/// partitions its small-page ITLB statically and shares its DTLB and STLB competitively, which
/// the model simplifies to a static half of every TLB array each, so a thread alone on its core
/// has half the TLB reach it would have with SMT off. The paging-structure caches stay whole per
/// thread (assumed).
/// </summary>
public static class HardwareThreads
{
    /// <summary>The view of <paramref name="profile"/> one of <paramref name="threadsPerCore"/> threads of a core has; the profile itself for one.</summary>
    public static HardwareProfile PerThread(HardwareProfile profile, int threadsPerCore)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfLessThan(threadsPerCore, 1);
        if (threadsPerCore == 1)
        {
            return profile;
        }
        TlbHierarchyGeometry t = profile.Tlbs;
        return profile with
        {
            Tlbs = t with
            {
                InstructionSmall = Share(t.InstructionSmall, threadsPerCore),
                InstructionLarge = Share(t.InstructionLarge, threadsPerCore),
                DataSmall = Share(t.DataSmall, threadsPerCore),
                DataLarge = Share(t.DataLarge, threadsPerCore),
                SecondLevel = t.SecondLevel is { } stlb ? Share(stlb, threadsPerCore) : null,
            },
            Timing = profile.Timing with { StoreBufferEntries = Math.Max(1, profile.Timing.StoreBufferEntries / threadsPerCore) },
        };
    }

    /// <summary>A thread's part of a TLB array: its sets divided among the threads, or its ways where it has one set (fully associative).</summary>
    private static TlbGeometry Share(TlbGeometry tlb, int threads)
    {
        int entries = Math.Max(1, tlb.Entries / threads);
        int ways = tlb.Sets == 1 || entries < tlb.Ways ? entries : tlb.Ways;
        return entries % ways == 0 ? new TlbGeometry(entries, ways) : new TlbGeometry(entries, entries);
    }
}
