namespace Sim.Models.Cpu;

/// <summary>
/// Watches a core at work, for the anatomy of an operation (<c>virtsim explain</c>): every
/// operation it executes, with the cycles it took, and the events between operations (VM exits
/// and entries, exceptions and interrupts delivered) with theirs. Attached only when asked; a
/// core without one pays a null check per operation.
/// </summary>
public interface ICoreTracer
{
    /// <summary>
    /// <paramref name="op"/> ran from <paramref name="start"/> to <paramref name="end"/> (cycles of
    /// the core's clock) at frame depth <paramref name="depth"/> (1: the thread itself), its
    /// instructions charged to <paramref name="mode"/> (its stalls and walks are inside the span too).
    /// </summary>
    void Executed(Core core, in Op op, CycleCategory mode, int depth, ulong start, ulong end);

    /// <summary>Something the core did between operations, charged to <paramref name="category"/> from <paramref name="start"/> to <paramref name="end"/>.</summary>
    void Event(Core core, string what, CycleCategory category, ulong start, ulong end);
}
