using System.Text.Json;

namespace Sim.Cli.Tests;

public class CompareTests
{
    [Fact]
    public void Compare_runs_every_preset_on_one_seed_and_says_why_a_preset_did_not_run()
    {
        string outDir = Path.Combine(Virtsim.TempFolder(), "cmp");
        var (code, stdout, stderr) = Virtsim.Run("compare", "--workload", "in", "--size", "100", "--json", "--out", outDir);
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement[] presets = [.. doc.RootElement.GetProperty("presets").EnumerateArray()];
        Assert.Equal(["native", "type1", "type2", "paravirt", "oslevel"], presets.Select(p => p.GetProperty("preset").GetString()));
        Assert.Equal(1.0, presets[0].GetProperty("slowdown").GetDouble());
        Assert.True(presets[1].GetProperty("slowdown").GetDouble() > 1);
        Assert.Equal(100, presets[1].GetProperty("vm_exits").GetProperty("IoInstruction").GetProperty("count").GetInt64());
        // Hosted: a read of port 0x80 needs nothing of the host, so the monitor keeps it, with no trip through the host; the KVM-like type1 takes it to its user-space model.
        Assert.True(presets[2].GetProperty("slowdown").GetDouble() < presets[1].GetProperty("slowdown").GetDouble());
        Assert.Contains("minimal test kernel", presets[3].GetProperty("not_run").GetString(), StringComparison.Ordinal); // paravirt needs the Linux-like kernel
        Assert.Contains("minimal test kernel", presets[4].GetProperty("not_run").GetString(), StringComparison.Ordinal); // so do containers
        foreach (string file in new[] { "presets.csv", "exits.csv", "cycles.png", "exits.png", "report.md", "manifest.json", "scenario.json" })
        {
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);
        }
        Assert.Contains("type1,IoInstruction,30,100,", File.ReadAllText(Path.Combine(outDir, "exits.csv")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_repeated_comparison_writes_the_same_tables()
    {
        string a = Path.Combine(Virtsim.TempFolder(), "a"), b = Path.Combine(Virtsim.TempFolder(), "b");
        Assert.Equal(0, Virtsim.Run("compare", "--workload", "fio-randread", "--size", "20", "--out", a).ExitCode);
        Assert.Equal(0, Virtsim.Run("compare", "--workload", "fio-randread", "--size", "20", "--out", b).ExitCode);
        foreach (string file in new[] { "presets.csv", "exits.csv", "summary.json" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, file)), File.ReadAllBytes(Path.Combine(b, file)));
        }
    }

    [Fact]
    public void An_unknown_workload_is_refused_and_nothing_is_written()
    {
        string outDir = Path.Combine(Virtsim.TempFolder(), "x");
        var (code, _, stderr) = Virtsim.Run("compare", "--workload", "spec-cpu", "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains("no workload 'spec-cpu'", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
    }
}

public class CompareChartTests
{
    [Fact]
    public void The_exit_chart_draws_something_when_no_preset_exits_and_the_metric_can_be_chosen()
    {
        string outDir = Path.Combine(Virtsim.TempFolder(), "fork");
        var (code, _, stderr) = Virtsim.Run("compare", "--workload", "lat-null", "--size", "50", "--out", outDir, "--metric", "latency");
        Assert.True(code == 0, stderr);
        // An empty legend beside the plot used to leave the whole picture white (about 4 KB of PNG).
        Assert.True(new FileInfo(Path.Combine(outDir, "exits.png")).Length > 10_000);
        Assert.True(new FileInfo(Path.Combine(outDir, "figure.png")).Length > 10_000);
        var (bad, _, error) = Virtsim.Run("compare", "--workload", "lat-null", "--size", "50", "--out", Path.Combine(Virtsim.TempFolder(), "never"), "--metric", "iops");
        Assert.Equal(2, bad);
        Assert.Contains("lat-null reports no figure of merit 'iops'; it reports latency", error, StringComparison.Ordinal);
    }
}
