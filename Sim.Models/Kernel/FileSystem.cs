namespace Sim.Models.Kernel;

/// <summary>
/// The files of the kernel model: a flat table of files by id, each a contiguous extent of the
/// disk. Enough for programs to open, read and write files and for exec to map a program's
/// text; character devices (/dev/null, /dev/zero); no directories, names are only for reports.
/// </summary>
public sealed class FileSystem
{
    /// <summary>File extents start at 1 GiB into the disk, clear of the region that raw-disk workloads use.</summary>
    public const ulong FirstSector = 1UL << 21;

    private readonly List<FileEntry> _files = [];
    private ulong _nextSector = FirstSector;

    public int Count => _files.Count;

    /// <summary>Creates a file of <paramref name="sizeBytes"/>, with room to grow to <paramref name="capacityBytes"/>; returns its id.</summary>
    public int Create(string name, ulong sizeBytes, ulong capacityBytes = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ulong capacity = Math.Max(sizeBytes, capacityBytes);
        ulong sectors = ((capacity + 4095) / 4096) * 8;
        var entry = new FileEntry(_files.Count, name, _nextSector, sizeBytes, capacity);
        _files.Add(entry);
        _nextSector += Math.Max(8, sectors);
        return entry.Id;
    }

    /// <summary>Creates a character device file (no extent on the disk); returns its id.</summary>
    public int CreateDevice(string name, CharacterDevice device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (device == CharacterDevice.None)
        {
            throw new ArgumentOutOfRangeException(nameof(device), device, "A device file needs a device.");
        }
        var entry = new FileEntry(_files.Count, name, 0, 0, 0) { Device = device };
        _files.Add(entry);
        return entry.Id;
    }

    public FileEntry this[int id] => id >= 0 && id < _files.Count
        ? _files[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"There is no file {id}; {_files.Count} exist.");

    /// <summary>A file: its id, name, first disk sector, current size and the capacity of its extent.</summary>
    public sealed class FileEntry(int id, string name, ulong firstSector, ulong size, ulong capacity)
    {
        public int Id { get; } = id;

        public string Name { get; } = name;

        public ulong FirstSector { get; } = firstSector;

        public ulong Size { get; internal set; } = size;

        public ulong Capacity { get; } = capacity;

        public ulong Pages => (Size + 4095) / 4096;

        /// <summary>For a device file, the device its reads and writes go to; None for a regular file.</summary>
        public CharacterDevice Device { get; init; }
    }
}
