using System.Diagnostics;

namespace Sim.Cli.Tests;

/// <summary>validate keeps each finished experiment as it ends, so that a run killed part way simulates only the rest when started again.</summary>
public class ValidateResumeTests
{
    [Fact]
    public void A_killed_validation_resumes_with_the_experiments_it_had_finished()
    {
        string parent = Virtsim.TempFolder();
        string outDir = Path.Combine(parent, "out");
        string kept = Path.Combine(parent, ".out.done");
        string[] args = ["validate", "--only", "aa06-native", "--threads", "1", "--out", outDir];
        using (Process first = Virtsim.Start(args))
        {
            var watch = Stopwatch.StartNew();
            // The three short nanobenchmarks finish first; the forkwaits after them take seconds.
            while (!(Directory.Exists(kept) && Directory.GetFiles(kept, "*.json").Length >= 3) && !first.HasExited && watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(10);
            }
            Assert.False(first.HasExited, "the validation ended before it could be interrupted");
            first.Kill(entireProcessTree: true);
            first.WaitForExit();
        }
        Assert.False(Directory.Exists(outDir)); // interrupted: no results folder that looks complete

        var (code, _, stderr) = Virtsim.Run(args);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"validate: [3-8] of 9 experiments kept from an interrupted run", stderr);
        Assert.True(File.Exists(Path.Combine(outDir, "validation.csv")));
        Assert.False(Directory.Exists(kept)); // done: nothing kept any more
    }
}
