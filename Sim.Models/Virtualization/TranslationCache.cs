using Sim.Engine.Statistics;
using Sim.Models.Memory;

namespace Sim.Models.Virtualization;

/// <summary>
/// The translation cache of a binary-translating monitor (VMware's classic VMM, Adams and Agesen,
/// ASPLOS 2006): guest kernel code is translated, a cache line of it at a time here, the first
/// time control enters it, and kept until the cache is full, when the least recently entered
/// translation is dropped. A translation costs <see cref="CyclesPerInstruction"/> per guest
/// instruction.
/// </summary>
/// <remarks>
/// Model: the unit of translation is the 64-byte line the kernel's code is fetched by (16
/// instructions), not a basic block; translated code is assumed the size of the guest's, and is
/// fetched at the guest's addresses (its own cache footprint is not simulated).
/// </remarks>
public sealed class TranslationCache
{
    /// <summary>"The translator spends about 2300 cycles per translated x86 instruction" on the Pentium 4 (Adams and Agesen, ASPLOS 2006).</summary>
    public const int CyclesPerInstruction = 2300;

    private readonly int _capacityLines;
    private readonly Dictionary<ulong, LinkedListNode<ulong>> _lines = [];
    private readonly LinkedList<ulong> _recency = []; // most recently entered first
    private readonly Counter _translations;
    private readonly Counter _hits;
    private readonly Counter _evictions;

    public TranslationCache(int capacityBytes, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        if (capacityBytes < CodeLayout<HypervisorRoutine>.LineBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityBytes), capacityBytes, "The translation cache holds at least one line.");
        }
        _capacityLines = capacityBytes / CodeLayout<HypervisorRoutine>.LineBytes;
        _translations = stats.Counter("translations", "count", "guest kernel code lines translated");
        _hits = stats.Counter("hits", "count", "entries into guest kernel code already translated");
        _evictions = stats.Counter("evictions", "count", "translations dropped to make room");
    }

    /// <summary>Control enters guest kernel code at <paramref name="linearAddress"/>: the cycles of translating its line, 0 if it is cached.</summary>
    public int Enter(ulong linearAddress)
    {
        ulong line = linearAddress / (ulong)CodeLayout<HypervisorRoutine>.LineBytes;
        if (_lines.TryGetValue(line, out LinkedListNode<ulong>? node))
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
            _hits.Increment();
            return 0;
        }
        if (_lines.Count == _capacityLines)
        {
            LinkedListNode<ulong> oldest = _recency.Last!;
            _recency.RemoveLast();
            _lines.Remove(oldest.Value);
            _evictions.Increment();
        }
        _lines[line] = _recency.AddFirst(line);
        _translations.Increment();
        return CodeLayout<HypervisorRoutine>.InstructionsPerLine * CyclesPerInstruction;
    }
}
