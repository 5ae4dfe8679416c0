using System.Diagnostics;

namespace Sim.Cli.Tests;

/// <summary>Two processes given the same --out: exactly one writes the folder, the other is refused clearly, nothing is lost.</summary>
public class ConcurrentWriterTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_second_run_into_the_same_folder_is_refused_while_the_first_writes(bool force)
    {
        string parent = Virtsim.TempFolder();
        string outDir = Path.Combine(parent, "out");
        string[] args = ["run", "--workload", "forkwait", "--size", "2000", "--out", outDir, .. force ? new[] { "--force" } : []];
        using Process first = Virtsim.Start(args);
        var watch = Stopwatch.StartNew();
        while (Directory.GetDirectories(parent, ".out.partial*").Length == 0 && !first.HasExited && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            Thread.Sleep(20);
        }
        Assert.False(first.HasExited, "the first run ended before the second could start; it needs a longer workload");

        var (code, _, stderr) = Virtsim.Run(args);

        first.WaitForExit();
        Assert.Equal(2, code);
        Assert.Contains("another virtsim process is writing", stderr, StringComparison.Ordinal);
        Assert.Equal(0, first.ExitCode);
        foreach (string file in new[] { "stats.csv", "summary.json", "report.md", "scenario.json", "manifest.json" })
        {
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);
        }
        Assert.Equal(["out"], Directory.GetFileSystemEntries(parent).Select(Path.GetFileName));
    }
}
