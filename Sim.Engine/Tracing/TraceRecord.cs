namespace Sim.Engine.Tracing;

/// <summary>One recorded span, instant or counter value; names and tracks are interned ids.</summary>
public readonly record struct TraceRecord(
    TraceKind Kind, int Track, int Name, ulong StartPicoseconds, ulong DurationPicoseconds, long Value);
