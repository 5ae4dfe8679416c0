using System.Text.Json;

namespace Sim.Cli.Tests;

/// <summary>The notebooks of notebooks/ run headless (dotnet-repl, the repository's local tool) with no failing cell.</summary>
public class NotebookTests
{
    public static TheoryData<string> Notebooks() =>
        [.. Directory.GetFiles(Path.Combine(DocsTests.RepositoryRoot(), "notebooks"), "*.ipynb").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void A_notebook_runs_to_the_end_without_an_error(string notebook)
    {
        string root = DocsTests.RepositoryRoot();
        Assert.Equal(0, Virtsim.Dotnet(root, "tool", "restore").ExitCode);
        string output = Path.Combine(Virtsim.TempFolder(), notebook);
        var (code, stdout, stderr) = Virtsim.Dotnet(Path.Combine(root, "notebooks"), "repl", "--run", notebook, "--exit-after-run", "--output-path", output);
        using JsonDocument run = JsonDocument.Parse(File.ReadAllText(output));
        string[] errors = [.. run.RootElement.GetProperty("cells").EnumerateArray()
            .SelectMany(c => c.TryGetProperty("outputs", out JsonElement outputs) ? outputs.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Where(o => o.GetProperty("output_type").GetString() == "error")
            .Select(o => o.GetProperty("evalue").GetString() ?? "")];
        Assert.True(code == 0 && errors.Length == 0, $"{notebook}: exit {code}; {string.Join(" | ", errors)} {stdout} {stderr}");
        Assert.Contains("display_data", File.ReadAllText(output), StringComparison.Ordinal); // it shows at least one chart
    }
}
