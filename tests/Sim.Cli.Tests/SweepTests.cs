namespace Sim.Cli.Tests;

/// <summary>Sweeps: the same tables whatever the threads, interruptions or shards; bad files refused.</summary>
public class SweepTests
{
    private const string Grid = """
        base:
          workload: lat-null
          size: 5000
          profile: nehalem-x5570
        grid:
          preset: [type1, oslevel]
          guests: [1, 2]
        seeds: 2
        """;

    private static readonly string[] Tables = ["points.csv", "summary.csv", "report.md"];

    private static string SweepFile(string text)
    {
        string path = Path.Combine(Virtsim.TempFolder(), "grid.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Threads_shards_and_an_interruption_give_the_same_tables_to_the_byte()
    {
        string file = SweepFile(Grid);
        string whole = Path.Combine(Virtsim.TempFolder(), "whole");
        var (code, stdout, stderr) = Virtsim.Run("sweep", file, "--out", whole, "--threads", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("8 run(s) done", stdout, StringComparison.Ordinal);
        Assert.Contains("[8/8] 100%", stderr, StringComparison.Ordinal); // plain progress lines when not a terminal

        string one = Path.Combine(Virtsim.TempFolder(), "one");
        string two = Path.Combine(Virtsim.TempFolder(), "two");
        Assert.Equal(0, Virtsim.Run("sweep", file, "--out", one, "--shard", "1/2", "--threads", "1").ExitCode);
        string partialFolder = Path.Combine(Virtsim.TempFolder(), "partial");
        var (partial, _, missing) = Virtsim.Run("merge", file, "--out", partialFolder, one);
        Assert.Equal(2, partial); // shard 2's runs are missing: no tables, and nothing written
        Assert.Contains("have no result in the shards given", missing, StringComparison.Ordinal);
        Assert.False(Directory.Exists(partialFolder));
        Assert.Equal(0, Virtsim.Run("sweep", file, "--out", two, "--shard", "2/2").ExitCode);
        string merged = Path.Combine(Virtsim.TempFolder(), "merged");
        Assert.Equal(0, Virtsim.Run("merge", file, "--out", merged, one, two).ExitCode);

        // An interrupted sweep: one run's result lost; the rerun does only that one.
        File.Delete(Path.Combine(whole, "points", "p0003-s002.json"));
        var (resumed, again, _) = Virtsim.Run("sweep", file, "--out", whole, "--threads", "1");
        Assert.Equal(0, resumed);
        Assert.Contains("1 run(s) done", again, StringComparison.Ordinal);

        foreach (string table in Tables)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole, table)), File.ReadAllBytes(Path.Combine(merged, table)));
        }
        Assert.Contains("p0004,oslevel,2,", File.ReadAllText(Path.Combine(whole, "summary.csv")), StringComparison.Ordinal);
        Assert.True(new FileInfo(Path.Combine(whole, "sweep.png")).Length > 10_000); // guests is numeric: a curve against it
    }

    [Theory]
    [InlineData("base: {}\ngrid:\n  seed: [1, 2]\n", "'seed' cannot be a grid axis")]
    [InlineData("base: {}\ngrid:\n  preset: []\n", "takes a non-empty list")]
    [InlineData("base: {}\ngrid:\n  preset: [type1]\nsamples: 3\n", "unknown key 'samples'")]
    [InlineData("base:\n  workload: gups\ngrid:\n  preset: [paravirt]\n", "point 1: preset=paravirt")]
    [InlineData("grid:\n  preset: [type1]\n", "base is missing")]
    [InlineData("base:\n  workload: gups\n  repetitions: 3\ngrid:\n  preset: [type1]\n", "line 3: a sweep's base cannot hold repetitions")]
    [InlineData("base: {}\ngrid:\n  preset:\n    - native\n    - type1\n    - bogus\n", "line 6: preset: there is no preset 'bogus'")]
    [InlineData("base: {}\ngrid:\n  size: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  seed_x: [1]\n", "'seed_x' cannot be a grid axis")]
    [InlineData("base: {}\ngrid:\n  split:\n    one: {seed: 3}\n", "line 4: grid: split: the case 'one' sets 'seed', which a case cannot set")]
    [InlineData("base: {}\ngrid:\n  split:\n    one: 4\n", "line 4: grid: split: the case 'one' is a mapping of the scenario keys it sets")]
    [InlineData("base: {}\ngrid:\n  guests: [1, 2]\n  split:\n    one: {guests: 3}\n", "line 4: grid: split sets guests, which the axis guests sets too")]
    [InlineData("base: {}\ngrid:\n  split:\n    one: {preset: type1}\n    two: {preset: bogus}\n", "line 5: preset: there is no preset 'bogus'")]
    [InlineData("base: {}\ngrid:\n  ? [preset]\n  : [type1]\n", "line 3: a grid axis is named by a scenario key or a name")]
    public void A_bad_sweep_file_is_refused_before_anything_runs(string text, string expected)
    {
        string folder = Path.Combine(Virtsim.TempFolder(), "never");
        var (code, _, stderr) = Virtsim.Run("sweep", SweepFile(text), "--out", folder);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void An_axis_of_cases_sets_several_keys_at_once_and_a_key_a_case_leaves_alone_keeps_the_base_value()
    {
        const string text = """
            base:
              workload: lat-null
              size: 2000
              profile: nehalem-x5570
              preset: type1
            grid:
              split:
                one-vm: {size: 3000}
                two-containers: {preset: oslevel, guests: 2}
              host_cores: [1, 2]
            """;
        var sweep = Sim.Experiments.Sweeps.Sweep.Parse(text, "cases.yaml", "cases");
        Assert.Equal(["split", "host_cores"], sweep.Keys);
        Assert.Equal([("split", "one-vm"), ("host_cores", "1")], sweep.Points[0].Values);
        string Of(int point) => $"{sweep.Points[point].Scenario.Preset} size {sweep.Points[point].Scenario.Size} guests {sweep.Points[point].Scenario.Guests} cores {sweep.Points[point].Scenario.HostCores}";
        Assert.Equal("type1 size 3000 guests 1 cores 1", Of(0));
        Assert.Equal("oslevel size 2000 guests 2 cores 2", Of(3));
        Assert.Equal("host_cores", Sim.Experiments.Sweeps.SweepChart.NumericAxis(sweep)); // a line per case

        string folder = Path.Combine(Virtsim.TempFolder(), "cases");
        var (code, _, stderr) = Virtsim.Run("sweep", SweepFile(text), "--out", folder);
        Assert.True(code == 0, stderr);
        Assert.Contains("p0003,two-containers,1,", File.ReadAllText(Path.Combine(folder, "summary.csv")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_grid_past_the_limit_is_refused_at_once_before_any_point_is_built()
    {
        string values = "[" + string.Join(", ", Enumerable.Range(1, 1000)) + "]";
        string text = $"base: {{}}\ngrid:\n  size: {values}\n  host_processes: {values}\n  shadow_cache_roots: {values}\n";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, stderr) = Virtsim.Run("sweep", SweepFile(text), "--out", Path.Combine(Virtsim.TempFolder(), "never"));
        Assert.Equal(2, code);
        Assert.Contains("the grid has 1E+09 points, more than the 100,000", stderr, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "a huge grid must be refused before it is built");
    }

    [Fact]
    public void An_edited_sweep_is_not_served_the_old_results_and_shards_of_another_file_are_not_merged()
    {
        string file = SweepFile("base:\n  workload: lat-null\n  size: 2000\ngrid:\n  preset: [native, oslevel]\n");
        string folder = Path.Combine(Virtsim.TempFolder(), "sweep");
        Assert.Equal(0, Virtsim.Run("sweep", file, "--out", folder).ExitCode);
        byte[] before = File.ReadAllBytes(Path.Combine(folder, "points.csv"));

        File.WriteAllText(file, "base:\n  workload: lat-null\n  size: 2000\ngrid:\n  preset: [oslevel, native]\n"); // the same values, in another order
        var (code, _, stderr) = Virtsim.Run("sweep", file, "--out", folder);
        Assert.Equal(2, code);
        Assert.Contains("holds the runs of another sweep", stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(folder, "points.csv")));

        string merged = Path.Combine(Virtsim.TempFolder(), "merged");
        var (merge, _, mergeError) = Virtsim.Run("merge", file, "--out", merged, folder);
        Assert.Equal(2, merge);
        Assert.Contains("another sweep", mergeError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(merged));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"point\": \"p0001\"")]
    [InlineData("tamper")]
    public void A_damaged_run_file_is_named_and_never_read_into_the_tables(string damage)
    {
        string file = SweepFile("base:\n  workload: lat-null\n  size: 2000\ngrid:\n  preset: [native, oslevel]\n");
        string folder = Path.Combine(Virtsim.TempFolder(), "sweep");
        Assert.Equal(0, Virtsim.Run("sweep", file, "--out", folder).ExitCode);
        string run = Path.Combine(folder, "points", "p0002-s001.json");
        File.WriteAllText(run, damage == "tamper" ? File.ReadAllText(run).Replace("\"value\": ", "\"value\": 1", StringComparison.Ordinal) : damage);
        File.Delete(Path.Combine(folder, "points.csv"));

        var (code, _, stderr) = Virtsim.Run("sweep", file, "--out", folder);
        Assert.Equal(2, code);
        Assert.Contains("p0002-s001.json is damaged", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, "points.csv")));

        File.Delete(run); // as the message says: the rerun redoes that run only
        var (again, stdout, _) = Virtsim.Run("sweep", file, "--out", folder);
        Assert.Equal(0, again);
        Assert.Contains("1 run(s) done", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_run_records_its_binding_resource_and_an_older_run_file_without_one_is_still_read()
    {
        string file = SweepFile("base:\n  workload: fio-randread\n  size: 300\n  profile: nehalem-x5570\n  disk: nvme\n  host_cores: 1\ngrid:\n  jobs: [1, 32]\n");
        string folder = Path.Combine(Virtsim.TempFolder(), "sweep");
        Assert.Equal(0, Virtsim.Run("sweep", file, "--out", folder).ExitCode);
        Assert.Contains("\"binding_resource\": \"host.disk0.medium's latency\"", File.ReadAllText(Path.Combine(folder, "points", "p0001-s001.json")), StringComparison.Ordinal);
        string report = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.Contains("## binding resource", report, StringComparison.Ordinal);
        Assert.Contains("| p0001 | 1 | host.disk0.medium's latency |", report, StringComparison.Ordinal);
        Assert.Matches(@"p0002,32,42,bottleneck_utilization,0\.\d+,share", File.ReadAllText(Path.Combine(folder, "points.csv")));

        // A run file of a sweep before the binding was recorded: its checksum covers no binding, and the tables still come.
        string run = Path.Combine(folder, "points", "p0001-s001.json");
        using (var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(run)))
        {
            var fields = new Dictionary<string, object?>
            {
                ["point"] = "p0001",
                ["seed_index"] = 0,
                ["seed"] = 42UL,
                ["metrics"] = doc.RootElement.GetProperty("metrics").EnumerateArray()
                    .Select(m => new Dictionary<string, object?> { ["name"] = m.GetProperty("name").GetString(), ["value"] = m.GetProperty("value").GetDouble(), ["unit"] = m.GetProperty("unit").GetString() }).ToArray(),
            };
            string checksum = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Sim.Experiments.Output.JsonText.Of(fields))));
            fields["sweep"] = doc.RootElement.GetProperty("sweep").GetString();
            fields["checksum"] = checksum;
            File.WriteAllText(run, Sim.Experiments.Output.JsonText.Of(fields));
        }
        string mergedFolder = Path.Combine(Virtsim.TempFolder(), "merged");
        Assert.Equal(0, Virtsim.Run("merge", file, "--out", mergedFolder, folder).ExitCode);
        string merged = File.ReadAllText(Path.Combine(mergedFolder, "report.md"));
        Assert.Contains("| p0001 | 1 |  |", merged, StringComparison.Ordinal); // recorded as unknown, not made up
    }

    [Fact]
    public void A_sweep_into_a_folder_that_cannot_be_written_is_refused_clearly()
    {
        string file = SweepFile("base:\n  workload: lat-null\n  size: 2000\ngrid:\n  preset: [native]\n");
        foreach (string bad in new[] { "", "/proc/virtsim-never/x" })
        {
            var (code, _, stderr) = Virtsim.Run("sweep", file, "--out", bad);
            Assert.Equal(2, code);
            Assert.StartsWith("virtsim sweep: ", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(Path.Combine(Environment.CurrentDirectory, "points")));
    }

    [Fact]
    public void The_curve_draws_the_metric_asked_for_and_an_unknown_one_is_refused()
    {
        string file = SweepFile("base:\n  workload: web\n  request_rate: 3000\n  size: 40\n  profile: nehalem-x5570\ngrid:\n  preset: [type1, oslevel]\n  guests: [1, 2]\nplot: response_mean\n");
        string folder = Path.Combine(Virtsim.TempFolder(), "web");
        var (code, _, stderr) = Virtsim.Run("sweep", file, "--out", folder);
        Assert.True(code == 0, stderr);
        Assert.Contains("![response_mean against the grid's numeric axis](sweep.png)", File.ReadAllText(Path.Combine(folder, "report.md")), StringComparison.Ordinal);
        byte[] mean = File.ReadAllBytes(Path.Combine(folder, "sweep.png"));
        Assert.Equal(0, Virtsim.Run("sweep", file, "--out", folder, "--metric", "response_p99").ExitCode); // the runs are kept: plot changes no run
        Assert.NotEqual(mean, File.ReadAllBytes(Path.Combine(folder, "sweep.png")));
        var (bad, _, error) = Virtsim.Run("sweep", file, "--out", folder, "--metric", "latency");
        Assert.Equal(2, bad);
        Assert.Contains("no metric 'latency'; they report requests, response_mean", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_Slurm_script_runs_one_shard_per_array_task()
    {
        string folder = Path.Combine(Virtsim.TempFolder(), "cluster");
        Assert.Equal(0, Virtsim.Run("sweep", SweepFile(Grid), "--out", folder, "--emit-slurm", "4").ExitCode);
        string script = File.ReadAllText(Path.Combine(folder, "sweep.sbatch"));
        Assert.Contains("#SBATCH --array=1-4", script, StringComparison.Ordinal);
        Assert.Contains("--shard \"$SLURM_ARRAY_TASK_ID/4\"", script, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(folder, "points"))); // nothing ran
    }

    [Fact]
    public void Runs_a_time_limit_cuts_short_have_empty_figures_in_the_tables_not_a_crash()
    {
        string file = SweepFile("base:\n  workload: lat-null\n  size: 100000\n  profile: nehalem-x5570\n  time_limit_ms: 1\ngrid:\n  preset: [native, oslevel]\n");
        string folder = Path.Combine(Virtsim.TempFolder(), "cut");
        var (code, _, stderr) = Virtsim.Run("sweep", file, "--out", folder);
        Assert.True(code == 0, stderr);
        Assert.Contains("p0001,native,42,latency,,us per operation", File.ReadAllText(Path.Combine(folder, "points.csv")), StringComparison.Ordinal);
        var (run, _, runError) = Virtsim.Run("run", "--workload", "lat-null", "--profile", "nehalem-x5570", "--size", "100000", "--time-limit-ms", "1", "--repetitions", "2",
            "--out", Path.Combine(Virtsim.TempFolder(), "run"));
        Assert.True(run == 0, runError);
    }
}
