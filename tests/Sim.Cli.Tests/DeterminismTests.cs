namespace Sim.Cli.Tests;

public class DeterminismTests
{
    private static readonly string[] Small = ["engine-check", "--seed", "7", "--repetitions", "3", "--duration-ms", "100", "--warmup-ms", "10"];

    [Fact]
    public void The_same_seeded_run_in_two_processes_writes_identical_bytes_whatever_the_thread_count()
    {
        string root = Virtsim.TempFolder();
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
        var first = Virtsim.Run([.. Small, "--threads", "1", "--out", a]);
        var second = Virtsim.Run([.. Small, "--threads", "2", "--out", b]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.True(second.ExitCode == 0, second.Stderr);
        foreach (string file in new[] { "stats.csv", "summary.csv", "report.md", "scenario.json" })
        {
            byte[] x = File.ReadAllBytes(Path.Combine(a, file));
            Assert.NotEmpty(x);
            Assert.Equal(x, File.ReadAllBytes(Path.Combine(b, file)));
        }
    }

    [Fact]
    public void Another_seed_gives_other_numbers()
    {
        string root = Virtsim.TempFolder();
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
        Assert.Equal(0, Virtsim.Run([.. Small, "--out", a]).ExitCode);
        Assert.Equal(0, Virtsim.Run(["engine-check", "--seed", "8", "--repetitions", "3", "--duration-ms", "100", "--warmup-ms", "10", "--out", b]).ExitCode);
        Assert.NotEqual(File.ReadAllText(Path.Combine(a, "stats.csv")), File.ReadAllText(Path.Combine(b, "stats.csv")));
    }
}
