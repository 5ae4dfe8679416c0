using System.Text.Json;

namespace Sim.Experiments.Output;

/// <summary>Indented JSON with a final newline: how every JSON file and summary of a run is written.</summary>
public static class JsonText
{
    // Relaxed escaping: these files are read by people and programs, never embedded in HTML, so
    // "<=" in a service level stays "<=" rather than "\u003C=".
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Of(object value) => JsonSerializer.Serialize(value, Indented) + "\n";
}
