using System.Text.Json;
using Sim.Engine.Time;
using Sim.Engine.Tracing;

namespace Sim.Engine.Tests.Tracing;

public class TraceTests
{
    [Fact]
    public void The_ring_keeps_the_newest_records_and_counts_the_dropped()
    {
        var trace = new TraceRecorder(capacity: 3);
        int track = trace.Track("host.cpu0");
        int name = trace.Name("tick");
        for (ulong t = 1; t <= 5; t++)
        {
            trace.Instant(track, name, new Tick(t));
        }
        Assert.Equal(3, trace.Count);
        Assert.Equal(2, trace.Dropped);
        Assert.Equal([3UL, 4, 5], trace.Records().Select(r => r.StartPicoseconds));
    }

    [Fact]
    public void A_window_keeps_only_what_overlaps_it()
    {
        var trace = new TraceRecorder(100, windowStart: new Tick(100), windowEnd: new Tick(200));
        int track = trace.Track("a");
        int name = trace.Name("n");
        trace.Span(track, name, new Tick(50), new Tick(99));    // before
        trace.Span(track, name, new Tick(50), new Tick(150));   // overlaps the start
        trace.Instant(track, name, new Tick(201));              // after
        trace.Counter(track, name, new Tick(200), 7);           // at the end
        Assert.Equal([TraceKind.Span, TraceKind.Counter], trace.Records().Select(r => r.Kind));
    }

    [Fact]
    public void Chrome_trace_json_has_named_tracks_and_exact_microsecond_times()
    {
        var trace = new TraceRecorder(16);
        int cpu = trace.Track("host.cpu0");
        int exit = trace.Name("vm-exit");
        int queue = trace.Name("queue");
        trace.Span(cpu, exit, new Tick(1_500_000), new Tick(1_500_264));
        trace.Instant(cpu, exit, new Tick(3));
        trace.Counter(cpu, queue, new Tick(2_000_000), 4);
        using var stream = new MemoryStream();
        ChromeTraceWriter.Write(trace, stream);
        string text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        Assert.Contains("\"ts\":1.500000,", text, StringComparison.Ordinal);
        Assert.Contains("\"dur\":0.000264", text, StringComparison.Ordinal);
        Assert.Contains("\"ts\":0.000003", text, StringComparison.Ordinal);

        using JsonDocument doc = JsonDocument.Parse(stream.ToArray());
        JsonElement[] events = [.. doc.RootElement.GetProperty("traceEvents").EnumerateArray()];
        Assert.Equal("M", events[0].GetProperty("ph").GetString());
        Assert.Equal("host.cpu0", events[0].GetProperty("args").GetProperty("name").GetString());
        Assert.Equal(["X", "i", "C"], events.Skip(1).Select(e => e.GetProperty("ph").GetString()));
        Assert.Equal(4, events[3].GetProperty("args").GetProperty("value").GetInt64());
    }

    [Fact]
    public void Bad_spans_and_capacities_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TraceRecorder(0));
        var trace = new TraceRecorder(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => trace.Span(0, 0, new Tick(5), new Tick(4)));
    }
}
