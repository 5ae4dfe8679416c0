namespace Sim.Models.Memory;

/// <summary>
/// The machine's physical memory, holding real contents where the model needs them (page
/// tables, descriptor rings): 64-bit words in 4 KiB frames, stored sparsely (a frame never
/// written reads as zeros). Data pages whose contents no model reads cost no host memory.
/// Frames are handed out by <see cref="AllocateFrame()"/>, lowest first, and returned zeroed.
/// </summary>
/// <remarks>
/// The data a frame holds beyond those words (a file's bytes, code, a program's variables) is not
/// stored byte by byte: a frame carries instead a content label (<see cref="ContentOf"/>), which
/// names what was put there. Two frames with the same non-zero label hold the same bytes (the same
/// page of the same file, the same page of the same code); label 0, every frame's until something
/// labels it, is private data, equal to no other frame's. Page sharing (KSM) compares frames by
/// these labels.
/// </remarks>
public sealed class PhysicalMemory
{
    public const int FrameBytes = 4096;
    public const int FrameShift = 12;
    private const int WordsPerFrame = FrameBytes / sizeof(ulong);

    private const int ChunkShift = 12; // 4096 frames (16 MiB) per chunk of the frame directory

    // A two-level directory from frame number to contents: page-table walks read here on every
    // reference, so an array index beats a hash lookup; chunks are made on first write.
    private readonly ulong[]?[]?[] _chunks;
    private readonly ulong[]?[] _contents; // per chunk of the frame directory, each frame's content label; made at the first label
    private Node[] _nodes; // node n holds the n-th share of the frames; one node until SplitIntoNodes
    private ulong _nodeBytes; // a node's share (the last's may be larger); unused with one node

    /// <param name="sizeBytes">The installed memory; a multiple of 2 MiB.</param>
    /// <param name="reservedBytes">Memory below this address is never handed out (firmware, the kernel image).</param>
    public PhysicalMemory(ulong sizeBytes, ulong reservedBytes = 1UL << 20)
    {
        if (sizeBytes == 0 || sizeBytes % LargeFrameBytes != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "Physical memory must be a positive multiple of 2 MiB.");
        }
        if (reservedBytes >= sizeBytes || reservedBytes % FrameBytes != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(reservedBytes), reservedBytes, "The reserved low memory must be whole frames and smaller than the memory.");
        }
        SizeBytes = sizeBytes;
        _nodes = [new Node { Start = reservedBytes >> FrameShift, Next = reservedBytes >> FrameShift, End = sizeBytes >> FrameShift }];
        _chunks = new ulong[]?[]?[((sizeBytes >> FrameShift) + (1UL << ChunkShift) - 1) >> ChunkShift];
        _contents = new ulong[]?[_chunks.Length];
    }

    /// <summary>
    /// What the frame of <paramref name="physicalAddress"/> holds beyond the words the model stores:
    /// a label naming its bytes (equal labels, equal bytes), or 0 for private data.
    /// </summary>
    public ulong ContentOf(ulong physicalAddress)
    {
        CheckAddress(physicalAddress);
        ulong frame = physicalAddress >> FrameShift;
        return _contents[frame >> ChunkShift]?[frame & ((1UL << ChunkShift) - 1)] ?? 0;
    }

    /// <summary>
    /// Names what the frame of <paramref name="physicalAddress"/> now holds (0: private data), as
    /// whoever filled it knows: a file's page read in, code laid out. Anyone sharing the frame's
    /// page hears of it first (<see cref="ContentChanging"/>).
    /// </summary>
    public void SetContent(ulong physicalAddress, ulong content)
    {
        CheckAddress(physicalAddress);
        ulong frame = physicalAddress >> FrameShift;
        ContentChanging?.Invoke(frame << FrameShift, content);
        ref ulong[]? chunk = ref _contents[frame >> ChunkShift];
        if (chunk is null && content == 0)
        {
            return; // already private
        }
        chunk ??= new ulong[1 << ChunkShift];
        chunk[frame & ((1UL << ChunkShift) - 1)] = content;
    }

    /// <summary>Heard before a frame's content label changes, with the frame's address and the new label: what a VM's host listens to where it shares the guest's pages (data put into a merged page without a CPU's write breaks the sharing first).</summary>
    public Action<ulong, ulong>? ContentChanging { get; set; }

    public ulong SizeBytes { get; }

    public ulong FramesInUse { get; private set; }

    /// <summary>The first node's frames never handed out yet: the run <see cref="AllocateContiguous"/> takes from.</summary>
    /// <summary>The frames no one holds: never used, or given back (a free 2 MiB run counted whole).</summary>
    public ulong FramesFree => _nodes.Aggregate(0UL, (sum, n) => sum + (n.End - n.Next) + (ulong)n.Freed.Count + ((ulong)n.FreedLarge.Count * FramesPerLarge));

    public ulong ContiguousFramesLeft => _nodes[0].End - _nodes[0].Next;

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

    /// <summary>A copy of the words the frame at <paramref name="physicalAddress"/> holds, or null where none was written (it reads as zeros): what a swap write carries.</summary>
    public ulong[]? FrameWords(ulong physicalAddress)
    {
        CheckAddress(physicalAddress);
        ulong frame = physicalAddress >> FrameShift;
        ulong[]? words = _chunks[frame >> ChunkShift]?[frame & ((1UL << ChunkShift) - 1)];
        return words is null ? null : (ulong[])words.Clone();
    }

    /// <summary>Puts <paramref name="words"/> (a <see cref="FrameWords"/> copy, or null for zeros) into the frame at <paramref name="physicalAddress"/>: what a swap read brings back.</summary>
    public void SetFrameWords(ulong physicalAddress, ulong[]? words)
    {
        CheckAddress(physicalAddress);
        ulong frame = physicalAddress >> FrameShift;
        ref ulong[]?[]? chunk = ref _chunks[frame >> ChunkShift];
        if (words is null)
        {
            if (chunk is not null)
            {
                chunk[frame & ((1UL << ChunkShift) - 1)] = null;
            }
            return;
        }
        if (words.Length != WordsPerFrame)
        {
            throw new ArgumentException($"A frame holds {WordsPerFrame} words, not {words.Length}.", nameof(words));
        }
        chunk ??= new ulong[]?[1 << ChunkShift];
        chunk[frame & ((1UL << ChunkShift) - 1)] = (ulong[])words.Clone();
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

    /// <summary>How many NUMA nodes the frames are split into (the sockets of a machine), 1 until <see cref="SplitIntoNodes"/>.</summary>
    public int Nodes => _nodes.Length;

    /// <summary>
    /// Splits the frames evenly into <paramref name="nodes"/> NUMA nodes in address order, node
    /// <c>n</c> holding the <c>n</c>-th share (<see cref="NodeOf(ulong, ulong, int)"/>, the rule the
    /// memory system homes lines by); the frames already handed out stay node 0's. Done when the
    /// machine is built.
    /// </summary>
    public void SplitIntoNodes(int nodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        ulong nodeBytes = SizeBytes / (ulong)nodes, share = nodeBytes >> FrameShift, frames = SizeBytes >> FrameShift;
        if (nodeBytes % FrameBytes != 0)
        {
            throw new ArgumentException($"{SizeBytes >> 20} MiB do not split into {nodes} nodes of whole frames.", nameof(nodes));
        }
        if (_nodes.Length != 1 || _nodes[0].Next > share || _nodes[0].Freed.Count > 0)
        {
            throw new InvalidOperationException("Memory is split into nodes once, before it is used beyond the first node's share.");
        }
        var split = new Node[nodes];
        for (int n = 0; n < nodes; n++)
        {
            split[n] = new Node { Start = n == 0 ? _nodes[0].Start : (ulong)n * share, Next = n == 0 ? _nodes[0].Next : (ulong)n * share, End = n == nodes - 1 ? frames : (ulong)(n + 1) * share };
        }
        _nodes = split;
        _nodeBytes = nodeBytes;
    }

    /// <summary>
    /// The node that holds <paramref name="physicalAddress"/> when memory is split into
    /// <paramref name="nodes"/> shares of <paramref name="nodeBytes"/> in address order, the last
    /// taking any rest: the one rule the allocator and the memory system share.
    /// </summary>
    public static int NodeOf(ulong physicalAddress, ulong nodeBytes, int nodes) =>
        nodes == 1 ? 0 : (int)Math.Min(physicalAddress / nodeBytes, (ulong)nodes - 1);

    /// <summary>The node holding <paramref name="physicalAddress"/>.</summary>
    public int NodeOf(ulong physicalAddress) => NodeOf(physicalAddress, _nodeBytes, _nodes.Length);

    /// <summary>A zeroed 4 KiB frame; its physical address (from the first node onward).</summary>
    public ulong AllocateFrame() => AllocateFrame(0);

    /// <summary>
    /// A zeroed 4 KiB frame of node <paramref name="node"/> (first touch: the node of the CPU that
    /// asks), or of the next node that has one when it has none (the zonelist's fallback).
    /// </summary>
    public ulong AllocateFrame(int node) =>
        TryAllocateFrame(node, out ulong frame) ? frame : throw new InsufficientMemoryException($"Physical memory ({SizeBytes >> 20} MiB) is exhausted.");

    /// <summary>As <see cref="AllocateFrame(int)"/>, false when no node has a free frame.</summary>
    public bool TryAllocateFrame(int node, out ulong physicalAddress)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(node);
        for (int k = 0; k < _nodes.Length; k++)
        {
            Node n = _nodes[(node + k) % _nodes.Length];
            ulong frame;
            if (n.Freed.Count > 0)
            {
                frame = n.Freed.Pop();
            }
            else if (n.Next < n.End)
            {
                frame = n.Next++;
            }
            else if (n.FreedLarge.Count > 0)
            {
                frame = n.FreedLarge.Pop();
                for (ulong f = frame + FramesPerLarge - 1; f > frame; f--)
                {
                    n.Freed.Push(f); // a free 2 MiB run broken up when nothing smaller is left, as the buddy allocator splits a block
                }
            }
            else
            {
                continue;
            }
            FramesInUse++;
            physicalAddress = frame << FrameShift;
            return true;
        }
        physicalAddress = 0;
        return false;
    }

    /// <summary>
    /// A zeroed run of whole frames covering <paramref name="bytes"/>, physically contiguous (taken
    /// from never-used memory, as a kernel's boot-time allocations are); its physical address.
    /// </summary>
    public ulong AllocateContiguous(ulong bytes)
    {
        ulong frames = Math.Max(1, (bytes + FrameBytes - 1) >> FrameShift);
        Node boot = _nodes[0];
        if (boot.Next + frames > boot.End)
        {
            throw new InsufficientMemoryException($"Physical memory ({SizeBytes >> 20} MiB) has no free run of {frames} frames left.");
        }
        ulong first = boot.Next;
        boot.Next += frames;
        FramesInUse += frames;
        return first << FrameShift;
    }

    /// <summary>The address of every frame handed out and not freed, node by node in address order: what a kernel has written by the time it asks (its boot's structures).</summary>
    public IReadOnlyList<ulong> FramesHandedOut()
    {
        var frames = new List<ulong>();
        foreach (Node n in _nodes)
        {
            var freed = new HashSet<ulong>(n.Freed); // looked up only
            foreach (ulong first in n.FreedLarge)
            {
                for (ulong f = first; f < first + FramesPerLarge; f++)
                {
                    freed.Add(f);
                }
            }
            for (ulong frame = n.Start; frame < n.Next; frame++)
            {
                if (!freed.Contains(frame))
                {
                    frames.Add(frame << FrameShift);
                }
            }
        }
        return frames;
    }

    /// <summary>The bytes of a large page (a 2 MiB run of 512 frames).</summary>
    public const ulong LargeFrameBytes = 2UL << 20;

    /// <summary>The large pages that hold <paramref name="bytes"/>, rounded up to a whole one.</summary>
    public static int LargeFramesFor(ulong bytes) => (int)((bytes + LargeFrameBytes - 1) / LargeFrameBytes);

    private const ulong FramesPerLarge = LargeFrameBytes / FrameBytes;

    /// <summary>A zeroed, 2 MiB-aligned run of 512 frames for a large page; its physical address.</summary>
    public ulong AllocateLargeFrame() => AllocateLargeFrames(node: 0, count: 1);

    /// <summary>
    /// A zeroed large page for a transparent huge page, of node <paramref name="node"/> or the
    /// next that has one: a whole free 2 MiB run given back earlier (<see cref="FreeLargeFrame"/>),
    /// else one from never-used memory; false when no node has one. The model does not compact:
    /// 512 frames freed one by one never make a large page again.
    /// </summary>
    public bool TryAllocateLargeFrame(int node, out ulong physicalAddress)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(node);
        for (int k = 0; k < _nodes.Length; k++)
        {
            Node n = _nodes[(node + k) % _nodes.Length];
            if (n.FreedLarge.TryPop(out ulong first) || TryTakeNeverUsed(n, FramesPerLarge, out first))
            {
                FramesInUse += FramesPerLarge;
                physicalAddress = first << FrameShift;
                return true;
            }
        }
        physicalAddress = 0;
        return false;
    }

    /// <summary>Gives back a whole large page (a 2 MiB-aligned run of 512 frames) as one free run, its contents dropped, as the buddy allocator frees an order-9 block.</summary>
    public void FreeLargeFrame(ulong physicalAddress)
    {
        CheckAddress(physicalAddress);
        if ((physicalAddress & (LargeFrameBytes - 1)) != 0)
        {
            throw new ArgumentException($"0x{physicalAddress:X} is not the start of a 2 MiB run.", nameof(physicalAddress));
        }
        for (ulong offset = 0; offset < LargeFrameBytes; offset += FrameBytes)
        {
            Clear(physicalAddress + offset);
        }
        _nodes[NodeOf(physicalAddress)].FreedLarge.Push(physicalAddress >> FrameShift);
        FramesInUse -= FramesPerLarge;
    }

    /// <summary>
    /// <paramref name="count"/> zeroed large pages (2 MiB-aligned runs of 512 frames) one after
    /// the other, all on one NUMA node: node <paramref name="node"/> if its never-used memory holds
    /// them, else the next node that does; the physical address of the first.
    /// </summary>
    public ulong AllocateLargeFrames(int node, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(node);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ulong frames = (ulong)count * FramesPerLarge;
        for (int k = 0; k < _nodes.Length; k++)
        {
            if (TryTakeNeverUsed(_nodes[(node + k) % _nodes.Length], frames, out ulong first))
            {
                FramesInUse += frames;
                return first << FrameShift;
            }
        }
        throw new InsufficientMemoryException(count == 1
            ? $"Physical memory ({SizeBytes >> 20} MiB) has no free 2 MiB run left."
            : $"Physical memory ({SizeBytes >> 20} MiB) has no node with {frames >> 8} MiB of never-used contiguous memory left.");
    }

    /// <summary>The first of <paramref name="frames"/> never-used frames of <paramref name="n"/>, 2 MiB-aligned, taken; false when its never-used memory does not hold them. The alignment gap stays usable for small frames.</summary>
    private static bool TryTakeNeverUsed(Node n, ulong frames, out ulong first)
    {
        first = (n.Next + FramesPerLarge - 1) & ~(FramesPerLarge - 1);
        if (first + frames > n.End)
        {
            return false;
        }
        for (ulong f = n.Next; f < first; f++)
        {
            n.Freed.Push(f);
        }
        n.Next = first + frames;
        return true;
    }

    /// <summary>Returns a 4 KiB frame; its contents are dropped so it comes back zeroed.</summary>
    public void FreeFrame(ulong physicalAddress)
    {
        CheckAddress(physicalAddress);
        if ((physicalAddress & (FrameBytes - 1)) != 0)
        {
            throw new ArgumentException($"0x{physicalAddress:X} is not the start of a frame.", nameof(physicalAddress));
        }
        Clear(physicalAddress);
        _nodes[NodeOf(physicalAddress)].Freed.Push(physicalAddress >> FrameShift);
        FramesInUse--;
    }

    /// <summary>Drops the contents of the frame at <paramref name="physicalAddress"/>, so that it reads as zeros (a frame kept free outside the allocator, as a CPU's free-page list keeps one).</summary>
    public void Clear(ulong physicalAddress)
    {
        CheckAddress(physicalAddress);
        ulong frame = physicalAddress >> FrameShift;
        ulong[]?[]? chunk = _chunks[frame >> ChunkShift];
        if (chunk is not null)
        {
            chunk[frame & ((1UL << ChunkShift) - 1)] = null;
        }
        ulong[]? contents = _contents[frame >> ChunkShift];
        if (contents is not null)
        {
            contents[frame & ((1UL << ChunkShift) - 1)] = 0;
        }
    }

    private void CheckAddress(ulong physicalAddress)
    {
        if (physicalAddress >= SizeBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(physicalAddress), $"Physical address 0x{physicalAddress:X} lies beyond the installed {SizeBytes >> 20} MiB.");
        }
    }

    /// <summary>One node's frames: the next never-used one, the end of its share, and those given back.</summary>
    private sealed class Node
    {
        /// <summary>The node's first frame that may be handed out.</summary>
        public ulong Start { get; init; }

        public ulong Next { get; set; }

        public ulong End { get; init; }

        public Stack<ulong> Freed { get; } = new();

        /// <summary>The first frames of whole 2 MiB runs given back (<see cref="FreeLargeFrame"/>).</summary>
        public Stack<ulong> FreedLarge { get; } = new();
    }
}
