namespace Sim.Cli.Tests;

/// <summary>virtsim workload check as a planner runs it: the file's figures beside the simulated ones, and a bad file refused with its line.</summary>
public class WorkloadCheckTests
{
    [Fact]
    public void Check_prints_each_figure_beside_the_file_s_and_a_bad_file_is_refused()
    {
        string folder = Virtsim.TempFolder();
        string file = Path.Combine(folder, "api.yaml");
        File.WriteAllText(file, """
            per_request:
              instructions: 40000
              syscalls: {clock_gettime: 2, read: 1}
              packets_out: {count: 2, bytes: 900}
            arrival: {rate: 800}
            """);
        var (code, stdout, stderr) = Virtsim.Dotnet(folder, Path.Combine(AppContext.BaseDirectory, "virtsim.dll"), "workload", "check", "api.yaml", "--size", "50");
        Assert.True(code == 0, stderr);
        Assert.Contains("| system calls | 6 | ", stdout, StringComparison.Ordinal);
        Assert.Contains("| packets out | 2 | 2 | within 5% |", stdout, StringComparison.Ordinal);

        File.WriteAllText(file, "per_request:\n  instructions: 40000\n  syscalls: {writev: 3}\n");
        var (refused, _, why) = Virtsim.Dotnet(folder, Path.Combine(AppContext.BaseDirectory, "virtsim.dll"), "workload", "check", "api.yaml");
        Assert.Equal(2, refused);
        Assert.Contains("api.yaml, line 3: unknown key 'writev' in per_request: syscalls", why, StringComparison.Ordinal);
        Assert.Equal(["api.yaml"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName)); // a check writes nothing
    }
}
