using Sim.Engine.Randomness;
using Sim.Models.Cpu;
using Sim.Models.Paging;

namespace Sim.Models.Kernel;

/// <summary>
/// Files: open, read, write and close through the page cache (PageCache) of 4 KiB pages; exec's text mapped
/// from the same cache. A read that misses the cache reads the page from the disk and blocks its
/// caller; a write fills a cache page and returns (dirty pages stay in the cache: the model has
/// no writeback yet).
/// </summary>
public sealed partial class LinuxKernel
{
    private const long Enoent = -2;
    private const long Ebadf = -9;
    private const long Efbig = -27;

    private readonly List<ExecutableImage> _executables = [];
    private readonly Dictionary<string, int> _imageFiles = new(StringComparer.Ordinal); // by name; looked up only, never iterated

    /// <summary>The kernel's files.</summary>
    public FileSystem Files { get; } = new();

    /// <summary>Makes <paramref name="image"/> startable by execve; returns the number to pass.</summary>
    public int RegisterExecutable(ExecutableImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        _executables.Add(image);
        return _executables.Count - 1;
    }

    /// <summary>
    /// A read-only file of the workload's image (a program, a library, an input), cached at boot
    /// (<see cref="Preload"/>); returns its id. Asked for again by name, as by the next container
    /// started from the same image, it is the same file: containers see their image through
    /// overlayfs, whose lower layer is one inode for all of them, so the image's pages are one copy
    /// in the page cache, charged to no container (the kernel read them at boot).
    /// </summary>
    public int ImageFile(string name, ulong sizeBytes)
    {
        if (_imageFiles.TryGetValue(name, out int shared))
        {
            return Files[shared].Size == sizeBytes ? shared
                : throw new ArgumentException($"The image already has a file '{name}' of {Files[shared].Size} bytes; a second of {sizeBytes} would not be the same file.", nameof(sizeBytes));
        }
        int file = Files.Create(name, sizeBytes);
        Preload(file);
        _imageFiles[name] = file;
        return file;
    }

    /// <summary>Reads a whole file into the page cache at boot (not timed): a warm cache, as after an earlier run.</summary>
    public void Preload(int fileId)
    {
        for (ulong page = 0; page < Files[fileId].Pages; page++)
        {
            CacheFilePage(fileId, page, Memory.AllocateFrame());
        }
    }

    /// <summary>
    /// Page <paramref name="page"/> of a file read into the page cache at <paramref name="frame"/>,
    /// which then holds that page of the file: its content label names the file (by name and
    /// size) and the page, so that the same file's page in another kernel of the same image is
    /// equal to it where the host compares pages (KSM).
    /// </summary>
    private void CacheFilePage(int fileId, ulong page, ulong frame, FileLru? lru = null)
    {
        _pageCache.Add(fileId, page, frame, lru);
        FileSystem.FileEntry file = Files[fileId];
        Memory.SetContent(frame, StableHash.Combine(StableHash.Combine(StableHash.Fnv1a64(file.Name), file.Size), page));
    }

    private void Open(KernelPath path, Process p, int fileId)
    {
        path.Run(KernelRoutine.Open);
        if (fileId < 0 || fileId >= Files.Count)
        {
            p.Program.SyscallReturned(Enoent);
            return;
        }
        WalkPath(path, Files[fileId].Name);
        int fd = p.Files.IndexOf(null, 3);
        if (fd < 0)
        {
            fd = p.Files.Count;
            p.Files.Add(null);
        }
        p.Files[fd] = new OpenFile(fileId);
        p.Program.SyscallReturned(fd);
    }

    /// <summary>stat: the path walked, the inode read, a 144-byte struct stat copied to the user buffer.</summary>
    private void Stat(KernelPath path, Process p, int fileId)
    {
        path.Run(KernelRoutine.Stat);
        if (fileId < 0 || fileId >= Files.Count)
        {
            p.Program.SyscallReturned(Enoent);
            return;
        }
        ulong inode = WalkPath(path, Files[fileId].Name);
        path.Load(inode);
        path.StoreRange(UserBuffer(p), 144); // struct stat
        p.Program.SyscallReturned(0);
    }

    /// <summary>
    /// The path walk of open and stat (link_path_walk): for each component, the dcache hash
    /// bucket and the dentry are read; returns the file's inode line. The model's path is the
    /// file's name. On an SMP kernel, __d_lookup takes the dentry's d_lock (a spinlock at the head
    /// of its line) to check it and count a reference, as 2.6 kernels before the RCU path walk of
    /// 2.6.38 do, so CPUs walking the same directories pass their dentries' lines between them.
    /// </summary>
    private ulong WalkPath(KernelPath path, string name)
    {
        foreach (string prefix in DentryCache.Prefixes(name))
        {
            path.Run(KernelRoutine.PathComponent).Load(_dentries.BucketOf(prefix));
            ulong dentry = _dentries.DentryOf(prefix);
            if (Smp)
            {
                path.SpinLock(dentry).SpinUnlock(dentry);
            }
            else
            {
                path.Load(dentry);
            }
        }
        return _dentries.InodeOf(name);
    }

    private static void Close(KernelPath path, Process p, int fd)
    {
        path.Run(KernelRoutine.Close);
        if (fd < 3 || fd >= p.Files.Count || p.Files[fd] is null)
        {
            p.Program.SyscallReturned(Ebadf);
            return;
        }
        p.Files[fd] = null;
        p.Program.SyscallReturned(0);
    }

    /// <summary>read of 4 KiB at the file offset into the process's data page: from the page cache, or from the disk (blocking) on a miss.</summary>
    private void Read(Core core, KernelPath path, Process p, int fd)
    {
        path.Run(KernelRoutine.FileRead);
        if (FileOf(p, fd) is not { } open)
        {
            p.Program.SyscallReturned(Ebadf);
            return;
        }
        FileSystem.FileEntry file = Files[open.FileId];
        if (file.Device != CharacterDevice.None)
        {
            DeviceRead(path, p, file.Device, p.Program.PendingCount);
            return;
        }
        if (open.Offset >= file.Size)
        {
            p.Program.SyscallReturned(0); // end of file
            return;
        }
        ulong page = open.Offset / 4096;
        ulong user = UserBuffer(p);
        if (_pageCache.TryFind(file.Id, page, out ulong frame))
        {
            _pageCache.Accessed(file.Id, page);
            path.CopyRange(DirectMap.Of(frame), user, 4096);
            open.Offset += 4096;
            p.Program.SyscallReturned(4096);
            return;
        }
        if (!TryChargePage(path, p, cache: true))
        {
            Exit(core, path, p, OutOfMemoryStatus(p)); // the charge of the page to read into found no room even after reclaim
            return;
        }
        BlockIo(core, path, p, (file.FirstSector + (page * 8)) * 512, write: false, (completion, buffer) =>
        {
            OwnPage(p, buffer, cache: true);
            CacheFilePage(file.Id, page, buffer, p.Container?.Lru);
            CopyToUser(completion, p, DirectMap.Of(buffer), user, 4096);
            open.Offset += 4096;
            p.Program.SyscallReturned(4096);
        });
    }

    /// <summary>
    /// copy_to_user of <paramref name="bytes"/> for <paramref name="p"/> from a completion: on the
    /// completion's path when this CPU has the process's address space loaded (as on one CPU,
    /// where the reader's tables stay loaded while the CPU idles), otherwise on the path that
    /// switches to the process, after its tables are loaded: the read's remainder runs in the
    /// reader's context, as do_generic_file_read's copy does after the page is unlocked.
    /// </summary>
    private void CopyToUser(KernelPath path, Process p, ulong fromLinear, ulong toUser, long bytes)
    {
        if (_this.LoadedMm == p.Mm)
        {
            path.CopyRange(fromLinear, toUser, bytes);
            return;
        }
        p.OnSwitchIn += switchPath => switchPath.CopyRange(fromLinear, toUser, bytes);
    }

    /// <summary>write of 4 KiB from the process's data page at the file offset, into a page-cache page, which is dirty from then on.</summary>
    private void Write(Core core, KernelPath path, Process p, int fd)
    {
        path.Run(KernelRoutine.FileWrite);
        if (FileOf(p, fd) is not { } open)
        {
            p.Program.SyscallReturned(Ebadf);
            return;
        }
        FileSystem.FileEntry file = Files[open.FileId];
        if (file.Device != CharacterDevice.None)
        {
            p.Program.SyscallReturned(Math.Max(0, p.Program.PendingCount)); // both devices discard what is written
            return;
        }
        if (open.Offset + 4096 > file.Capacity)
        {
            p.Program.SyscallReturned(Efbig);
            return;
        }
        ulong page = open.Offset / 4096;
        if (_pageCache.TryFind(file.Id, page, out ulong frame))
        {
            _pageCache.Accessed(file.Id, page);
        }
        else
        {
            if (!TryChargePage(path, p, cache: true))
            {
                Exit(core, path, p, OutOfMemoryStatus(p));
                return;
            }
            frame = CachePageFrame(path, _this.Node); // __page_cache_alloc: from the writing CPU's node
            OwnPage(p, frame, cache: true);
            _pageCache.Add(file.Id, page, frame, p.Container?.Lru);
        }
        _pageCache.Dirtied(file.Id, page);
        Memory.SetContent(frame, 0); // what the process writes is its own data
        path.CopyRange(UserBuffer(p), DirectMap.Of(frame), 4096);
        open.Offset += 4096;
        file.Size = Math.Max(file.Size, open.Offset);
        p.Program.SyscallReturned(4096);
    }

    /// <summary>read from /dev/null (end of file) or /dev/zero (clear_user over the count, a store per line).</summary>
    private static void DeviceRead(KernelPath path, Process p, CharacterDevice device, long count)
    {
        if (device == CharacterDevice.Null || count <= 0)
        {
            p.Program.SyscallReturned(0);
            return;
        }
        count = Math.Min(count, 4096); // the model's user buffer is one page
        path.StoreRange(UserBuffer(p), count);
        p.Program.SyscallReturned(count);
    }

    private void Execve(Core core, KernelPath path, Process p, int image)
    {
        if (image < 0 || image >= _executables.Count)
        {
            p.Program.SyscallReturned(Enoent);
            return;
        }
        Exec(core, path, p, _executables[image]);
    }

    /// <summary>A fault in a file-backed region maps the page-cache page read-only and shared.</summary>
    private FaultOutcome MapFilePage(KernelPath path, Process p, MemoryRegion region, int file, ulong page, Core? core)
    {
        ulong index = (page - region.Start) / 4096;
        if (!_pageCache.TryFind(file, index, out ulong frame))
        {
            return FileReadFault(path, p, file, index, page, core);
        }
        if (!_readForFault.Remove((p, page)))
        {
            _fileFaults.Increment(); // a minor fault; the retry of a major one is not counted again
        }
        path.Run(KernelRoutine.FileFault);
        p.Space.Map4K(page, frame, PageEntry.User);
        LinkNewTables(path, p.Space);
        _frames.TakeReference(path, frame); // get_page and page_add_file_rmap
        _ops.UpdatePageTableEntry(path, p.Space.LeafEntryAddress(page)!.Value);
        return FaultOutcome.Retry;
    }

    private static OpenFile? FileOf(Process p, int fd) => fd >= 3 && fd < p.Files.Count ? p.Files[fd] : null;

    /// <summary>The user buffer a read fills or a write empties: the first page of the process's first writable region (a model of "the buffer").</summary>
    private static ulong UserBuffer(Process p) =>
        p.Regions.FirstOrDefault(r => r.Writable)?.Start ?? throw new InvalidOperationException($"Process {p.Pid} has no writable region for a file buffer.");
}
