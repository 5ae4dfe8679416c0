namespace Sim.Cli.Tests;

/// <summary>Docs that a command generates must equal what the command prints now.</summary>
public class DocsTests
{
    [Fact]
    public void The_hardware_profiles_page_is_what_virtsim_profiles_prints()
    {
        var (code, stdout, stderr) = Virtsim.Run("profiles");
        Assert.True(code == 0, stderr);
        string page = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "hardware-profiles.md"));
        Assert.True(page == stdout, "docs/hardware-profiles.md is stale: regenerate it with 'dotnet run --project Sim.Cli -- profiles > docs/hardware-profiles.md'.");
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
