using System.Text.Json;

namespace Sim.Cli.Tests;

public class WorkloadRunTests
{
    [Fact]
    public void A_workload_run_prints_one_JSON_object_and_writes_its_folder()
    {
        string outDir = Path.Combine(Virtsim.TempFolder(), "gups");
        var (code, stdout, stderr) = Virtsim.Run("run", "--workload", "gups", "--size", "2000", "--profile", "nehalem-x5570", "--json", "--out", outDir);
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal("gups", root.GetProperty("workload").GetString());
        Assert.Equal("native", root.GetProperty("architecture").GetProperty("cpu").GetString());
        long cycles = root.GetProperty("cycles").GetInt64();
        long sum = root.GetProperty("cycles_by_category").EnumerateObject().Sum(p => p.Value.GetInt64());
        Assert.Equal(cycles, sum);
        Assert.True(root.GetProperty("tlb").GetProperty("walks").GetDouble() > 1000);
        Assert.Equal(stdout, File.ReadAllText(Path.Combine(outDir, "summary.json")));
        Assert.True(File.Exists(Path.Combine(outDir, "stats.csv")));
        Assert.True(File.Exists(Path.Combine(outDir, "scenario.json")));
    }

    [Fact]
    public void A_single_run_says_how_far_it_has_simulated_and_its_slices_change_nothing()
    {
        string root = Virtsim.TempFolder();
        var (code, _, stderr) = Virtsim.Run("run", "--workload", "lat-fork", "--size", "300", "--profile", "nehalem-x5570", "--out", Path.Combine(root, "a"));
        Assert.True(code == 0, stderr);
        Assert.Matches(@"simulated [\d.,]+ ms, [\d,]+ events, \d+ s of wall time", stderr);
        // The same run through the library, in one piece: the same statistics to the byte.
        var scenario = new Sim.Experiments.Scenarios.WorkloadScenario { Workload = "lat-fork", Size = 300, Profile = "nehalem-x5570" };
        var whole = new StringWriter { NewLine = "\n" };
        Sim.Experiments.Output.StatsCsv.Write(whole, [scenario.RunOnce(scenario.Seed).Run]);
        Assert.Equal(whole.ToString(), File.ReadAllText(Path.Combine(root, "a", "stats.csv")));
    }

    [Fact]
    public void The_same_workload_run_twice_gives_the_same_bytes()
    {
        string root = Virtsim.TempFolder();
        string[] args = ["run", "--workload", "compute", "--size", "3000", "--seed", "9"];
        Assert.Equal(0, Virtsim.Run([.. args, "--out", Path.Combine(root, "a")]).ExitCode);
        Assert.Equal(0, Virtsim.Run([.. args, "--out", Path.Combine(root, "b")]).ExitCode);
        foreach (string file in new[] { "stats.csv", "summary.json", "report.md", "cycles.png", "scenario.json" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(root, "a", file)), File.ReadAllBytes(Path.Combine(root, "b", file)));
        }
    }

    [Theory]
    [InlineData("--workload", "spec-cpu", "no workload 'spec-cpu'")]
    [InlineData("--preset", "oslevel", "syscall runs on the minimal test kernel, which has no paravirtual port, namespaces or cgroups")]
    [InlineData("--preset", "paravirt", "syscall runs on the minimal test kernel")]
    [InlineData("--io", "passthrough", "needs an IOMMU (VT-d), which p4-672's platform does not have")]
    [InlineData("--mmu", "nested", "nested paging needs EPT, which p4-672 does not have")]
    [InlineData("--io", "virtio", "there is no io virtualization 'virtio'; the choices are: native, emulated, paravirtual, passthrough")]
    [InlineData("--preset", "type9", "no preset 'type9'")]
    [InlineData("--shadow-cache-roots", "0", "shadow_cache_roots must be 1 to 4096")]
    [InlineData("--virtio-backend", "vhost", "there is no virtio backend 'vhost'")]
    [InlineData("--profile", "p5", "no hardware profile 'p5'")]
    [InlineData("--disk", "tape", "the disks are: ssd, hdd")]
    [InlineData("--disk-interface", "scsi", "the interfaces are: ahci, ata-pio")]
    public void Unknown_or_unbuilt_choices_are_refused_with_the_alternatives(string option, string value, string message)
    {
        string outDir = Path.Combine(Virtsim.TempFolder(), "x");
        string[] args = option == "--workload" ? ["run", option, value, "--out", outDir] : ["run", "--workload", "syscall", option, value, "--out", outDir];
        var (code, _, stderr) = Virtsim.Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Workloads_are_listed()
    {
        var (code, stdout, _) = Virtsim.Run("workloads");
        Assert.Equal(0, code);
        foreach (string name in new[] { "syscall", "pgfault", "stream", "gups", "compute", "file:PATH" })
        {
            Assert.Contains(name, stdout, StringComparison.Ordinal);
        }
    }
}

public class ScenarioRunTests
{
    [Fact]
    public void A_scenario_file_runs_and_its_resolved_form_is_written_beside_the_results()
    {
        string root = Virtsim.TempFolder();
        string file = Path.Combine(root, "lat.yaml");
        File.WriteAllText(file, "workload: lat-null\nprofile: nehalem-x5570\nsize: 300\n");
        string outDir = Path.Combine(root, "out");
        var (code, stdout, _) = Virtsim.Run("run", file, "--out", outDir);
        Assert.Equal(0, code);
        Assert.Contains("latency", stdout, StringComparison.Ordinal);
        string resolved = File.ReadAllText(Path.Combine(outDir, "scenario.json"));
        Assert.Contains("\"size\": 300", resolved, StringComparison.Ordinal);
        Assert.Contains("\"disk_interface\": \"ahci\"", resolved, StringComparison.Ordinal); // defaults written out
        Assert.Contains("![cycles by category](cycles.png)", File.ReadAllText(Path.Combine(outDir, "report.md")), StringComparison.Ordinal);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(outDir, "cycles.png"))[..4]);
        string manifest = File.ReadAllText(Path.Combine(outDir, "manifest.json"));
        Assert.Contains($"\"scenario_sha256\": \"{Sim.Experiments.Output.Manifest.ScenarioHash(resolved)}\"", manifest, StringComparison.Ordinal);
        foreach (string field in new[] { "\"version\"", "\"commit\"", "\"seed\": 42", "\"host\"", "\"started\"", "\"finished\"", "\"wall_seconds\"" })
        {
            Assert.Contains(field, manifest, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_scenario_chooses_its_outputs_and_the_report_then_names_no_missing_picture()
    {
        string root = Virtsim.TempFolder();
        string file = Path.Combine(root, "lat.yaml");
        File.WriteAllText(file, "workload: lat-null\nprofile: nehalem-x5570\nsize: 300\noutputs: [report]\n");
        string outDir = Path.Combine(root, "out");
        Assert.Equal(0, Virtsim.Run("run", file, "--out", outDir).ExitCode);
        Assert.Equal(["manifest.json", "report.md", "scenario.json", "summary.json"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(".png", File.ReadAllText(Path.Combine(outDir, "report.md")), StringComparison.Ordinal);
        Assert.Contains("\"outputs\": [\n    \"report\"\n  ]", File.ReadAllText(Path.Combine(outDir, "scenario.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void Repetitions_over_seeds_give_confidence_intervals_and_the_same_bytes_again()
    {
        string root = Virtsim.TempFolder();
        string file = Path.Combine(root, "gups.yaml");
        File.WriteAllText(file, "workload: gups\nsize: 3000\nrepetitions: 3\n");
        var (code, stdout, _) = Virtsim.Run("run", file, "--out", Path.Combine(root, "a"));
        Assert.Equal(0, code);
        Assert.Contains("over 3 seeds (42 to 44), mean and 95% confidence interval:", stdout, StringComparison.Ordinal);
        Assert.Equal(0, Virtsim.Run("run", file, "--out", Path.Combine(root, "b")).ExitCode);
        foreach (string name in new[] { "stats.csv", "summary.csv", "summary.json", "report.md" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(root, "a", name)), File.ReadAllBytes(Path.Combine(root, "b", name)));
        }
        Assert.Equal(3, File.ReadAllLines(Path.Combine(root, "a", "stats.csv")).Skip(1).Select(l => l.Split(',')[0]).Distinct().Count()); // one run per seed
    }

    [Fact]
    public void An_invalid_scenario_is_refused_with_its_line_and_writes_nothing()
    {
        string root = Virtsim.TempFolder();
        string file = Path.Combine(root, "bad.yaml");
        File.WriteAllText(file, "workload: gups\nprofle: p4-672\n");
        string outDir = Path.Combine(root, "out");
        var (code, _, stderr) = Virtsim.Run("run", file, "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains("bad.yaml, line 2: unknown key 'profle'", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
        Assert.Equal(2, Virtsim.Run("run", file, "--workload", "gups").ExitCode); // a file or --workload, not both
    }
}
