namespace Sim.Cli.Tests;

/// <summary>The first run, 'virtsim run' with no arguments: the architectures toured, the same bytes whatever the threads.</summary>
public class TourTests
{
    [Fact]
    public void Run_alone_tours_the_architectures_and_writes_the_same_bytes_whatever_the_threads()
    {
        string root = Virtsim.TempFolder();
        var (code, stdout, stderr) = Virtsim.Run("run", "--out", Path.Combine(root, "a"), "--threads", "1");
        Assert.True(code == 0, stderr);
        foreach (string text in new[] { "Slowdown", "type1", "type2", "paravirt", "oslevel", "binary-translation", "IoInstruction", "cycles.png" })
        {
            Assert.Contains(text, stdout, StringComparison.Ordinal);
        }
        Assert.Contains("tour [48/48] 100%", stderr, StringComparison.Ordinal); // progress, as plain lines when not a terminal
        Assert.Equal(0, Virtsim.Run("run", "--out", Path.Combine(root, "b"), "--threads", "2").ExitCode);
        foreach (string file in new[] { "slowdowns.csv", "exits.csv", "cycles.csv", "summary.json", "report.md", "cycles.png", "scenario.json" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(root, "a", file)), File.ReadAllBytes(Path.Combine(root, "b", file)));
        }
    }

    [Theory]
    [InlineData(new[] { "run", "--size", "5" }, "--size describe one workload's run: give --workload NAME too")]
    [InlineData(new[] { "run", "--threads", "0" }, "--threads must be at least 1 (got 0)")]
    [InlineData(new[] { "run", "--workload", "gups", "--threads", "-2" }, "--threads must be at least 1 (got -2)")]
    [InlineData(new[] { "run", "--profile", "pentium" }, "there is no hardware profile 'pentium'")]
    public void Options_that_would_be_ignored_or_cannot_be_are_refused(string[] args, string message)
    {
        string outDir = Path.Combine(Virtsim.TempFolder(), "never");
        var (code, _, stderr) = Virtsim.Run([.. args, "--out", outDir]);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void A_scenario_file_is_not_mixed_with_options_that_describe_the_run()
    {
        string root = Virtsim.TempFolder();
        string file = Path.Combine(root, "lat.yaml");
        File.WriteAllText(file, "workload: lat-null\nsize: 300\n");
        foreach (string[] extra in new[] { new[] { "--seed", "3" }, ["--preset", "type1"], ["--size", "9"], ["--repetitions", "2"] })
        {
            var (code, _, stderr) = Virtsim.Run(["run", file, .. extra, "--out", Path.Combine(root, "never")]);
            Assert.Equal(2, code);
            Assert.Contains($"{extra[0]} cannot be given with it", stderr, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(Path.Combine(root, "never")));
    }
}
