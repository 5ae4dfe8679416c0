namespace Sim.Cli.Tests;

public class CommandLineTests
{
    [Fact]
    public void Version_names_the_version_commit_and_runtime()
    {
        var (code, stdout, _) = Virtsim.Run("version");
        Assert.Equal(0, code);
        Assert.Matches(@"^virtsim \d+\.\d+\.\d+", stdout);
        Assert.Contains("commit", stdout, StringComparison.Ordinal);
        Assert.Contains(".NET " + Environment.Version.Major, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_the_commands()
    {
        var (code, stdout, _) = Virtsim.Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("run", stdout, StringComparison.Ordinal);
        Assert.Contains("version", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--utilization", "1.2", "Utilization must lie strictly between 0 and 1")]
    [InlineData("--repetitions", "0", "Repetitions must lie in")]
    [InlineData("--servers", "0", "at least one server")]
    [InlineData("--duration-ms", "0", "duration must be positive")]
    public void Impossible_values_are_refused_and_nothing_is_written(string option, string value, string message)
    {
        string outDir = Path.Combine(Virtsim.TempFolder(), "out");
        var (code, _, stderr) = Virtsim.Run("engine-check", option, value, "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(outDir)!));
    }

    [Fact]
    public void An_existing_results_folder_is_not_overwritten_without_force()
    {
        string outDir = Path.Combine(Virtsim.TempFolder(), "out");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "mine.txt"), "keep");
        var (code, _, stderr) = Virtsim.Run("engine-check", "--repetitions", "1", "--duration-ms", "10", "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains("--force", stderr, StringComparison.Ordinal);
        Assert.Equal("keep", File.ReadAllText(Path.Combine(outDir, "mine.txt")));

        Assert.Equal(0, Virtsim.Run("engine-check", "--repetitions", "1", "--duration-ms", "10", "--out", outDir, "--force").ExitCode);
        Assert.False(File.Exists(Path.Combine(outDir, "mine.txt")));
        Assert.True(File.Exists(Path.Combine(outDir, "stats.csv")));
    }

    [Fact]
    public void A_trace_is_written_as_chrome_trace_json_when_asked()
    {
        string outDir = Path.Combine(Virtsim.TempFolder(), "out");
        Assert.Equal(0, Virtsim.Run("engine-check", "--repetitions", "1", "--duration-ms", "5", "--trace", "500", "--out", outDir).ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "trace.json")));
        Assert.True(doc.RootElement.GetProperty("traceEvents").GetArrayLength() > 500);
    }
}
