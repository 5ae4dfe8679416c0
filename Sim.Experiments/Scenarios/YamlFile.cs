using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sim.Experiments.Scenarios;

/// <summary>Reading the project's YAML files (scenarios, sweeps, reference experiments) with the file and line in every error.</summary>
internal static class YamlFile
{
    /// <summary>The text of <paramref name="path"/>, or a <see cref="ScenarioException"/> saying why the <paramref name="what"/> cannot be read.</summary>
    public static string Read(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException($"{path}: cannot read the {what}: {e.Message}");
        }
    }

    /// <summary>The root node of the one document of <paramref name="text"/>, or null for an empty text; text that is not YAML, or holds several documents, is refused with its line.</summary>
    public static YamlNode? Root(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ScenarioException($"{source}, line {e.Start.Line}: not valid YAML: {e.Message}");
        }
        if (stream.Documents.Count > 1)
        {
            throw new ScenarioException($"{source}, line {stream.Documents[1].RootNode.Start.Line}: a second YAML document ('---'); a file holds one, and the rest would be ignored.");
        }
        return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
    }
}
