using System.Text.Json;

namespace Sim.Experiments.Output;

/// <summary>Indented JSON with a final newline: how every JSON file and summary of a run is written.</summary>
public static class JsonText
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Of(object value) => JsonSerializer.Serialize(value, Indented) + "\n";
}
