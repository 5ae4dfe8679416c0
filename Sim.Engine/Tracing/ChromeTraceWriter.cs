using System.Globalization;
using System.Text.Json;

namespace Sim.Engine.Tracing;

/// <summary>
/// Writes a <see cref="TraceRecorder"/> as Chrome trace-event JSON (the "JSON Object Format" of
/// the Trace Event Format document), which Perfetto (ui.perfetto.dev) and chrome://tracing open.
/// Each component track becomes a thread of process 1, named by a metadata event; spans are
/// complete ("X") events, instants "i" events, counters "C" events. Timestamps are microseconds,
/// written exactly from picoseconds with six decimals, so the output is byte-stable.
/// </summary>
public static class ChromeTraceWriter
{
    public static void Write(TraceRecorder recorder, Stream output)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(output);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteString("displayTimeUnit", "ns");
        json.WriteStartObject("otherData");
        json.WriteString("timeSource", "simulated");
        json.WriteNumber("droppedRecords", recorder.Dropped);
        json.WriteEndObject();
        json.WriteStartArray("traceEvents");
        for (int track = 0; track < recorder.Tracks.Count; track++)
        {
            json.WriteStartObject();
            json.WriteString("name", "thread_name");
            json.WriteString("ph", "M");
            json.WriteNumber("pid", 1);
            json.WriteNumber("tid", track + 1);
            json.WriteStartObject("args");
            json.WriteString("name", recorder.Tracks[track]);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        foreach (TraceRecord r in recorder.Records())
        {
            json.WriteStartObject();
            json.WriteString("name", recorder.Names[r.Name]);
            json.WriteString("cat", recorder.Tracks[r.Track]);
            json.WriteString("ph", r.Kind switch { TraceKind.Span => "X", TraceKind.Instant => "i", _ => "C" });
            json.WritePropertyName("ts");
            json.WriteRawValue(Microseconds(r.StartPicoseconds));
            json.WriteNumber("pid", 1);
            json.WriteNumber("tid", r.Track + 1);
            switch (r.Kind)
            {
                case TraceKind.Span:
                    json.WritePropertyName("dur");
                    json.WriteRawValue(Microseconds(r.DurationPicoseconds));
                    break;
                case TraceKind.Instant:
                    json.WriteString("s", "t");
                    break;
                case TraceKind.Counter:
                    json.WriteStartObject("args");
                    json.WriteNumber("value", r.Value);
                    json.WriteEndObject();
                    break;
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Microseconds(ulong picoseconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{picoseconds / 1_000_000}.{picoseconds % 1_000_000:D6}");
}
