using Sim.Engine.Statistics;

namespace Sim.Experiments.Runs;

/// <summary>
/// What the host's page merging (KSM) did in a run, from its <c>host.ksm</c> statistics: the KSM
/// pages and the guest pages mapped onto them (the frames saved), ksmd's scanning and its host CPU
/// time, and the writes that broke a page out of its sharing.
/// </summary>
public sealed record PageMerging(long PagesShared, long PagesSharing, long PagesScanned, long FullScans, long ScanCycles, long CowBreaks)
{
    private const string Path = "host.ksm";

    /// <summary>The host memory merging saved at the end: a frame per guest page mapped onto a KSM page beyond its first.</summary>
    public double SavedBytes => PagesSharing * (double)Sim.Models.Memory.PhysicalMemory.FrameBytes;

    /// <summary>ksmd's host cycles per page it scanned.</summary>
    public double CyclesPerPage => PagesScanned == 0 ? 0 : (double)ScanCycles / PagesScanned;

    /// <summary>The run's page merging, or null when the host merged no pages (KSM off).</summary>
    public static PageMerging? Of(IReadOnlyList<StatSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        long? Part(string statistic) => samples.Where(s => s.Path == Path && s.Statistic == statistic).Select(s => (long?)s.Value).FirstOrDefault();
        return Part("pages_scanned") is { } scanned
            ? new PageMerging(Part("pages_shared") ?? 0, Part("pages_sharing") ?? 0, scanned, Part("full_scans") ?? 0, Part("scan_cycles") ?? 0, Part("cow_breaks") ?? 0)
            : null;
    }
}
