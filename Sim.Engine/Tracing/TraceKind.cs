namespace Sim.Engine.Tracing;

/// <summary>What a trace record shows: a span of time, an instant, or a counter's new value.</summary>
public enum TraceKind : byte
{
    Span,
    Instant,
    Counter,
}
