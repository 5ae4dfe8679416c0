using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sim.Experiments.Explain;

/// <summary>How the explanation views are written as JSON, for <c>virtsim explain --json</c> and the lecture page alike.</summary>
public static class ViewJson
{
    private static readonly JsonSerializerOptions s_options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // served as JSON and printed, never put into HTML unescaped: apostrophes stay readable
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary><paramref name="value"/> as indented JSON, its names in camel case.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, s_options);
}
