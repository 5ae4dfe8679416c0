namespace Sim.Cli.Tests;

/// <summary>
/// The notebooks of notebooks/ run headless (dotnet-repl, the repository's local tool) with no
/// failing cell, and give the outputs committed in results/notebooks/ (which 'virtsim reproduce'
/// regenerates), as the results folders do.
/// </summary>
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
        string executed = File.ReadAllText(output);
        IReadOnlyList<string> errors = Sim.Experiments.Output.NotebookOutput.Errors(executed);
        Assert.True(code == 0 && errors.Count == 0, $"{notebook}: exit {code}; {string.Join(" | ", errors)} {stdout} {stderr}");
        Assert.Contains("display_data", executed, StringComparison.Ordinal); // it shows at least one chart
        string committed = Path.Combine(root, "results", "notebooks", notebook);
        Assert.True(File.Exists(committed), $"{notebook} has no executed copy in results/notebooks/: run 'virtsim reproduce --only notebooks'");
        Assert.True(File.ReadAllText(committed) == Sim.Experiments.Output.NotebookOutput.Normalize(executed),
            $"results/notebooks/{notebook} is not what the notebook gives now: run 'virtsim reproduce --only notebooks' and review the change");
    }
}
