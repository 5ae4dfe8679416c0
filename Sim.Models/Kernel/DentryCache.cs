using Sim.Engine.Randomness;
using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's directory-entry cache in simulated memory: a hash table of bucket heads and one
/// 64-byte dentry per path prefix, plus one inode line per file, so that a path walk touches the
/// lines Linux's d_lookup touches. Every file's path is cached from boot (a warm dcache); a miss
/// that would read a directory from the disk is not modelled.
/// </summary>
/// <remarks>
/// 32,768 buckets of 8 bytes (256 KiB; assumed: Linux sizes dentry_hashtable from memory size at
/// boot, on the order of 2^15 to 2^17 entries for a machine of this size). Dentries and inodes are
/// taken from frames allocated as needed, 64 per frame.
/// </remarks>
public sealed class DentryCache
{
    private const int Buckets = 1 << 15;

    private readonly PhysicalMemory _memory;
    private readonly ulong _table;
    private readonly Dictionary<string, ulong> _dentries = new(StringComparer.Ordinal); // looked up only, never iterated
    private ulong _slab;
    private ulong _slabUsed = PhysicalMemory.FrameBytes;

    public DentryCache(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        _table = memory.AllocateContiguous(Buckets * sizeof(ulong));
    }

    /// <summary>The path's components, each a dentry to look up; a name without a slash is one component (relative to the working directory).</summary>
    public static IReadOnlyList<string> Prefixes(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var prefixes = new string[parts.Length];
        string prefix = path.StartsWith('/') ? "" : ".";
        for (int i = 0; i < parts.Length; i++)
        {
            prefix += "/" + parts[i];
            prefixes[i] = prefix;
        }
        return prefixes;
    }

    /// <summary>The hash bucket a prefix's dentry hangs from.</summary>
    public ulong BucketOf(string prefix) => _table + ((StableHash.Fnv1a64(prefix) % Buckets) * sizeof(ulong));

    /// <summary>The dentry of a path prefix (made on first use, at no simulated cost: the cache is warm).</summary>
    public ulong DentryOf(string prefix)
    {
        if (!_dentries.TryGetValue(prefix, out ulong line))
        {
            line = NewLine();
            _dentries[prefix] = line;
        }
        return line;
    }

    /// <summary>The inode line of a file, kept beside its dentries.</summary>
    public ulong InodeOf(string path) => DentryOf(path + "\0inode");

    private ulong NewLine()
    {
        if (_slabUsed == PhysicalMemory.FrameBytes)
        {
            _slab = _memory.AllocateFrame();
            _slabUsed = 0;
        }
        ulong line = _slab + _slabUsed;
        _slabUsed += KernelObjects.LineBytes;
        return line;
    }
}
