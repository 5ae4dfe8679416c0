namespace Sim.Models.Memory;

/// <summary>
/// The machine's physical memory, holding real contents where the model needs them (page
/// tables, descriptor rings): 64-bit words in 4 KiB frames, stored sparsely (a frame never
/// written reads as zeros). Data pages whose contents no model reads cost no host memory.
/// Frames are handed out by <see cref="AllocateFrame"/>, lowest first, and returned zeroed.
/// </summary>
public sealed class PhysicalMemory
{
    public const int FrameBytes = 4096;
    public const int FrameShift = 12;
    private const int WordsPerFrame = FrameBytes / sizeof(ulong);

    private const int ChunkShift = 12; // 4096 frames (16 MiB) per chunk of the frame directory

    // A two-level directory from frame number to contents: page-table walks read here on every
    // reference, so an array index beats a hash lookup; chunks are made on first write.
    private readonly ulong[]?[]?[] _chunks;
    private readonly Stack<ulong> _freed = new();
    private ulong _nextFrame;

    /// <param name="sizeBytes">The installed memory; a multiple of 2 MiB.</param>
    /// <param name="reservedBytes">Memory below this address is never handed out (firmware, the kernel image).</param>
    public PhysicalMemory(ulong sizeBytes, ulong reservedBytes = 1UL << 20)
    {
        if (sizeBytes == 0 || sizeBytes % (2UL << 20) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "Physical memory must be a positive multiple of 2 MiB.");
        }
        if (reservedBytes >= sizeBytes || reservedBytes % FrameBytes != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(reservedBytes), reservedBytes, "The reserved low memory must be whole frames and smaller than the memory.");
        }
        SizeBytes = sizeBytes;
        _nextFrame = reservedBytes >> FrameShift;
        _chunks = new ulong[]?[]?[((sizeBytes >> FrameShift) + (1UL << ChunkShift) - 1) >> ChunkShift];
    }

    public ulong SizeBytes { get; }

    public ulong FramesInUse { get; private set; }

    public ulong ReadUInt64(ulong physicalAddress)
    {
        CheckAddress(physicalAddress);
        ulong frame = physicalAddress >> FrameShift;
        ulong[]? words = _chunks[frame >> ChunkShift]?[frame & ((1UL << ChunkShift) - 1)];
        return words is null ? 0 : words[(physicalAddress & (FrameBytes - 1)) >> 3];
    }

    public void WriteUInt64(ulong physicalAddress, ulong value)
    {
        CheckAddress(physicalAddress);
        ulong frame = physicalAddress >> FrameShift;
        ref ulong[]?[]? chunk = ref _chunks[frame >> ChunkShift];
        ulong[]? words = chunk?[frame & ((1UL << ChunkShift) - 1)];
        if (words is null)
        {
            if (value == 0)
            {
                return; // an unwritten frame already reads as zero
            }
            chunk ??= new ulong[]?[1 << ChunkShift];
            words = new ulong[WordsPerFrame];
            chunk[frame & ((1UL << ChunkShift) - 1)] = words;
        }
        words[(physicalAddress & (FrameBytes - 1)) >> 3] = value;
    }

    /// <summary>The little-endian field of <paramref name="bytes"/> bytes (1, 2 or 4) at <paramref name="physicalAddress"/>, which must not cross an 8-byte word (rings and descriptors lay their fields out so).</summary>
    public ulong ReadField(ulong physicalAddress, int bytes) =>
        (ReadUInt64(physicalAddress & ~7UL) >> FieldShift(physicalAddress, bytes)) & FieldMask(bytes);

    /// <summary>Writes the little-endian field of <paramref name="bytes"/> bytes at <paramref name="physicalAddress"/>, leaving the rest of its word alone.</summary>
    public void WriteField(ulong physicalAddress, int bytes, ulong value)
    {
        int shift = FieldShift(physicalAddress, bytes);
        ulong mask = FieldMask(bytes);
        ulong word = ReadUInt64(physicalAddress & ~7UL);
        WriteUInt64(physicalAddress & ~7UL, (word & ~(mask << shift)) | ((value & mask) << shift));
    }

    private static int FieldShift(ulong physicalAddress, int bytes)
    {
        int offset = (int)(physicalAddress & 7);
        if (bytes is not (1 or 2 or 4) || offset % bytes != 0)
        {
            throw new ArgumentException($"A {bytes}-byte field at 0x{physicalAddress:X} is not aligned within its word.", nameof(bytes));
        }
        return offset * 8;
    }

    private static ulong FieldMask(int bytes) => (1UL << (bytes * 8)) - 1;

    /// <summary>A zeroed 4 KiB frame; its physical address.</summary>
    public ulong AllocateFrame()
    {
        ulong frame;
        if (_freed.Count > 0)
        {
            frame = _freed.Pop();
        }
        else
        {
            if ((_nextFrame + 1) << FrameShift > SizeBytes)
            {
                throw new InsufficientMemoryException($"Physical memory ({SizeBytes >> 20} MiB) is exhausted.");
            }
            frame = _nextFrame++;
        }
        FramesInUse++;
        return frame << FrameShift;
    }

    /// <summary>
    /// A zeroed run of whole frames covering <paramref name="bytes"/>, physically contiguous (taken
    /// from never-used memory, as a kernel's boot-time allocations are); its physical address.
    /// </summary>
    public ulong AllocateContiguous(ulong bytes)
    {
        ulong frames = Math.Max(1, (bytes + FrameBytes - 1) >> FrameShift);
        if ((_nextFrame + frames) << FrameShift > SizeBytes)
        {
            throw new InsufficientMemoryException($"Physical memory ({SizeBytes >> 20} MiB) has no free run of {frames} frames left.");
        }
        ulong first = _nextFrame;
        _nextFrame += frames;
        FramesInUse += frames;
        return first << FrameShift;
    }

    /// <summary>A zeroed, 2 MiB-aligned run of 512 frames for a large page; its physical address.</summary>
    public ulong AllocateLargeFrame()
    {
        const ulong FramesPerLarge = 512;
        ulong first = (_nextFrame + FramesPerLarge - 1) & ~(FramesPerLarge - 1);
        if ((first + FramesPerLarge) << FrameShift > SizeBytes)
        {
            throw new InsufficientMemoryException($"Physical memory ({SizeBytes >> 20} MiB) has no free 2 MiB run left.");
        }
        for (ulong f = _nextFrame; f < first; f++)
        {
            _freed.Push(f); // the alignment gap stays usable for small frames
        }
        _nextFrame = first + FramesPerLarge;
        FramesInUse += FramesPerLarge;
        return first << FrameShift;
    }

    /// <summary>Returns a 4 KiB frame; its contents are dropped so it comes back zeroed.</summary>
    public void FreeFrame(ulong physicalAddress)
    {
        CheckAddress(physicalAddress);
        if ((physicalAddress & (FrameBytes - 1)) != 0)
        {
            throw new ArgumentException($"0x{physicalAddress:X} is not the start of a frame.", nameof(physicalAddress));
        }
        ulong frame = physicalAddress >> FrameShift;
        ulong[]?[]? chunk = _chunks[frame >> ChunkShift];
        if (chunk is not null)
        {
            chunk[frame & ((1UL << ChunkShift) - 1)] = null;
        }
        _freed.Push(physicalAddress >> FrameShift);
        FramesInUse--;
    }

    private void CheckAddress(ulong physicalAddress)
    {
        if (physicalAddress >= SizeBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(physicalAddress), $"Physical address 0x{physicalAddress:X} lies beyond the installed {SizeBytes >> 20} MiB.");
        }
    }
}
