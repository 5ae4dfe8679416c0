using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sim.Experiments.Output;

/// <summary>
/// An executed notebook as it is kept in <c>results/notebooks/</c>: what dotnet-repl wrote, with
/// the only part that differs between two runs, each cell's start and end times, taken out, so
/// that a notebook run again gives the same bytes (the simulations and charts in it are
/// deterministic) and a test can hold the committed copy to a fresh run.
/// </summary>
public static class NotebookOutput
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Normalize(string executed)
    {
        ArgumentNullException.ThrowIfNull(executed);
        JsonNode root = JsonNode.Parse(executed) ?? throw new JsonException("An empty notebook.");
        foreach (JsonNode? cell in root["cells"]?.AsArray() ?? [])
        {
            if (cell?["metadata"] is JsonObject metadata)
            {
                foreach (string key in metadata.Select(p => p.Key).Where(k => k.StartsWith("dotnet_repl_", StringComparison.Ordinal)).ToArray())
                {
                    metadata.Remove(key);
                }
            }
        }
        return root.ToJsonString(Indented).ReplaceLineEndings("\n") + "\n";
    }

    /// <summary>The messages of the cells that failed, empty when every cell ran.</summary>
    public static IReadOnlyList<string> Errors(string executed)
    {
        ArgumentNullException.ThrowIfNull(executed);
        using JsonDocument run = JsonDocument.Parse(executed);
        return [.. run.RootElement.GetProperty("cells").EnumerateArray()
            .SelectMany(c => c.TryGetProperty("outputs", out JsonElement outputs) ? outputs.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Where(o => o.GetProperty("output_type").GetString() == "error")
            .Select(o => o.GetProperty("evalue").GetString() ?? "")];
    }
}
