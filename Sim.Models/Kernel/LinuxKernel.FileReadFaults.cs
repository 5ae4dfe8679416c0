using Sim.Engine.Statistics;
using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// Major faults on mapped files: a user-mode fault on a page of a file-backed mapping that is not
/// in the page cache reads it from the disk (filemap_fault: page_cache_ra_unbounded's read of the
/// page into a new cache page, then the wait on its lock, mm/filemap.c), the process waiting for
/// the read; the retried fault then maps the cached page, as filemap_map_pages would. It counts
/// once, as a major fault (pgmajfault), not also as a minor one. Only what a workload asks for:
/// a kernel without it maps program text from the cache and refuses other file faults.
/// </summary>
public sealed partial class LinuxKernel
{
    private Counter? _fileMajorFaults;

    /// <summary>The reads in flight of file pages faulted on, with the processes waiting for each.</summary>
    private readonly Dictionary<(int File, ulong Index), List<Process>> _fileReads = [];

    /// <summary>The faults whose page was read for them: their retry maps it without counting a minor fault.</summary>
    private readonly HashSet<(Process Process, ulong Page)> _readForFault = [];

    /// <summary>Lets faults on mapped file pages that are not cached read them from the disk, counted in <c>.kernel.filemap</c>. Before the run; again is a no-op.</summary>
    public void EnableFileReadFaults()
    {
        _fileMajorFaults ??= _platform.Sim.Stats.Group(_platform.Name + ".kernel.filemap")
            .Counter("major_faults", "count", "faults on mapped file pages that read the page from the disk (pgmajfault's file part)");
    }

    /// <summary>A fault on page <paramref name="index"/> of <paramref name="file"/>, not in the page cache: the page read into a new cache page while the process waits.</summary>
    private FaultOutcome FileReadFault(KernelPath path, Process p, int file, ulong index, ulong page, Core? core)
    {
        if (_fileMajorFaults is null || core is null)
        {
            throw new InvalidOperationException(
                $"A fault on page {index} of '{Files[file].Name}', which is not in the page cache: the model maps program text from the cache only; preload the file.");
        }
        if (_fileReads.TryGetValue((file, index), out List<Process>? waiters))
        {
            _readForFault.Add((p, page));
            return WaitOn(waiters, p); // another process's read of the page is on its way
        }
        path.Run(KernelRoutine.FileFault);
        if (!TryChargePage(path, p, cache: true, mayWait: true))
        {
            return Refused(p);
        }
        ulong frame = CachePageFrame(path, _this.Node);
        OwnPage(p, frame, cache: true);
        waiters = [];
        _fileReads[(file, index)] = waiters;
        _readForFault.Add((p, page));
        _fileMajorFaults.Increment();
        if (p.Container is { } container)
        {
            container.MajorFaults++;
        }
        FileSystem.FileEntry entry = Files[file];
        SubmitBlock(path, new DiskRequest(null, 8, frame, write: false, (done, _) =>
        {
            CacheFilePage(file, index, frame, p.Container?.Lru);
            _fileReads.Remove((file, index));
            WakeAll(done, waiters);
        }, core.LocalTime), entry.FirstSector + (index * 8));
        return WaitOn(waiters, p);
    }
}
