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
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxCharacters)
        {
            throw new ScenarioException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{source}: {text.Length:N0} characters; a scenario, sweep or study file holds at most {MaxCharacters:N0}."));
        }
        if (FlowNesting(text) is { } deep)
        {
            throw new ScenarioException($"{source}, line {deep}: lists or mappings nested more than {MaxNesting} deep; no file of the project needs that many (the YAML reader would run out of stack).");
        }
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

    /// <summary>The most characters a file may hold: far more than any scenario, sweep or study needs.</summary>
    public const int MaxCharacters = 4 << 20;

    /// <summary>The deepest nesting of flow collections (<c>[ ]</c>, <c>{ }</c>) allowed.</summary>
    public const int MaxNesting = 64;

    /// <summary>
    /// The line where flow collections first nest deeper than <see cref="MaxNesting"/>, or null.
    /// YamlDotNet's scanner recurses once per level, so a file of a hundred thousand '[' would
    /// overflow the stack, which no catch can stop; this counts the brackets first, outside quoted
    /// scalars and comments. Block collections nest by indentation, which the size limit bounds.
    /// </summary>
    private static int? FlowNesting(string text)
    {
        int depth = 0, line = 1;
        char quote = '\0';
        bool comment = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n')
            {
                line++;
                comment = false;
                continue;
            }
            if (comment)
            {
                continue;
            }
            if (quote != '\0')
            {
                if (c == '\\' && quote == '"')
                {
                    i++; // an escaped character
                }
                else if (c == quote)
                {
                    quote = '\0';
                }
                continue;
            }
            switch (c)
            {
                case '"' or '\'':
                    quote = c;
                    break;
                case '#' when i == 0 || char.IsWhiteSpace(text[i - 1]):
                    comment = true;
                    break;
                case '[' or '{':
                    if (++depth > MaxNesting)
                    {
                        return line;
                    }
                    break;
                case ']' or '}':
                    depth = Math.Max(0, depth - 1);
                    break;
            }
        }
        return null;
    }
}
