namespace Sim.Cli.Tests;

/// <summary>Docs that a command generates must equal what the command prints now.</summary>
public class DocsTests
{
    [Theory]
    [InlineData("profiles", "hardware-profiles.md")]
    [InlineData("isa", "isa.md")]
    [InlineData("calibrate", "calibration.md")]
    [InlineData("nanobench", "nanobenchmarks.md")]
    public void A_generated_page_is_what_its_command_prints(string command, string page)
    {
        var (code, stdout, stderr) = Virtsim.Run(command);
        Assert.True(code == 0, stderr);
        string text = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", page));
        Assert.True(text == stdout, $"docs/{page} is stale: regenerate it with 'dotnet run --project Sim.Cli -- {command} > docs/{page}'.");
    }

    [Fact]
    public void An_unknown_profile_is_refused_with_the_known_names()
    {
        var (code, _, stderr) = Virtsim.Run("profiles", "p5");
        Assert.Equal(2, code);
        Assert.Contains("p4-672", stderr, StringComparison.Ordinal);
    }

    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Simulation.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("The repository root (with Simulation.sln) was not found above the test folder.");
    }
}
