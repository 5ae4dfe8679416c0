namespace Sim.Cli.Tests;

/// <summary>Docs that a command generates must equal what the command prints now.</summary>
public class DocsTests
{
    [Theory]
    [InlineData("profiles", "hardware-profiles.md")]
    [InlineData("isa", "isa.md")]
    [InlineData("calibrate", "calibration.md")]
    [InlineData("nanobench", "nanobenchmarks.md")]
    public void A_generated_page_is_what_its_command_prints(string command, string page)
    {
        var (code, stdout, stderr) = Virtsim.Run(command);
        Assert.True(code == 0, stderr);
        string text = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", page));
        Assert.True(text == stdout, $"docs/{page} is stale: regenerate it with 'dotnet run --project Sim.Cli -- {command} > docs/{page}'.");
    }

    [Fact]
    public void The_committed_validation_results_are_what_the_suite_gives_now()
    {
        string folder = Path.Combine(Virtsim.TempFolder(), "validation");
        var (code, stdout, stderr) = Virtsim.Run("validate", "--out", folder);
        Assert.True(code == 0, stderr); // misses are reported, not an error, without --strict
        Assert.Contains("Validation targets (never used to set parameters)", stdout, StringComparison.Ordinal);
        foreach (string file in new[] { "validation.csv", "validation.md" })
        {
            string committed = File.ReadAllText(Path.Combine(RepositoryRoot(), "results", "validation", file));
            Assert.True(committed == File.ReadAllText(Path.Combine(folder, file)),
                $"results/validation/{file} is stale: regenerate it with 'dotnet run --project Sim.Cli -- validate'.");
        }
        Assert.True(new FileInfo(Path.Combine(folder, "validation.png")).Length > 10_000);
    }

    [Theory]
    [InlineData("claim7-web", 3)]
    [InlineData("claim7-web-balloon", 3)]
    [InlineData("claim7-web-ksm", 3)]
    [InlineData("claim7-web-host-swap", 3)]
    [InlineData("claim7-web-core2", 3)]
    [InlineData("claim7-web-nehalem-2s", 3)]
    [InlineData("claim7-web-skylake-2s", 2)]
    [InlineData("planner-mixed-example", 2)]
    public void The_density_tables_of_the_docs_are_the_committed_studies(string study, int presets)
    {
        // results/STUDY is what 'virtsim reproduce' writes for studies/STUDY.yaml (its minutes are not rerun here);
        // the docs' table is its report's, row for row.
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "density.md"));
        string[] rows = [.. File.ReadAllLines(Path.Combine(RepositoryRoot(), "results", study, "report.md"))
            .SkipWhile(l => !l.StartsWith("| preset | guests within the level", StringComparison.Ordinal)).Skip(2).TakeWhile(l => l.StartsWith('|'))];
        Assert.Equal(presets, rows.Length);
        Assert.Equal(presets + 1, File.ReadAllLines(Path.Combine(RepositoryRoot(), "results", study, "density.csv")).Length);
        string[] interference = [.. File.ReadAllLines(Path.Combine(RepositoryRoot(), "results", study, "report.md"))
            .SkipWhile(l => !l.StartsWith("| preset | workload | guests | level", StringComparison.Ordinal)).Skip(2).TakeWhile(l => l.StartsWith('|'))]; // a mixed host's
        foreach (string row in rows.Concat(interference))
        {
            Assert.True(docs.Contains(row, StringComparison.Ordinal), $"docs/density.md lacks '{row}': rerun 'virtsim reproduce --only {study}' and update the table.");
        }
    }

    [Fact]
    public void The_mixed_host_example_of_the_docs_is_the_committed_study()
    {
        // docs/density.md shows studies/planner-mixed-example.yaml without its comments.
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "density.md"));
        string[] lines = [.. File.ReadAllLines(Path.Combine(RepositoryRoot(), "studies", "planner-mixed-example.yaml")).Where(l => !l.StartsWith('#'))];
        Assert.Contains(string.Join("\n", lines), docs, StringComparison.Ordinal);
    }

    [Fact]
    public void The_planning_guide_s_worked_example_is_what_workload_check_prints()
    {
        string root = RepositoryRoot();
        var (code, stdout, stderr) = Virtsim.Dotnet(root, Path.Combine(AppContext.BaseDirectory, "virtsim.dll"), "workload", "check", Path.Combine("workloads", "python-http-server.yaml"), "--size", "40");
        Assert.True(code == 0, stderr);
        string docs = File.ReadAllText(Path.Combine(root, "docs", "planning.md"));
        foreach (string row in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('|')))
        {
            Assert.True(docs.Contains(row, StringComparison.Ordinal), $"docs/planning.md lacks '{row}': rerun 'virtsim workload check workloads/python-http-server.yaml --size 40' and update its table.");
        }
    }

    [Fact]
    public void A_part_of_the_suite_is_written_beside_the_runs_not_over_the_reference_table()
    {
        string folder = Virtsim.TempFolder();
        var (code, _, stderr) = Virtsim.Dotnet(folder, Path.Combine(AppContext.BaseDirectory, "virtsim.dll"), "validate", "--only", "aa06-native-callret");
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(Path.Combine(folder, "runs", "validation", "validation.csv")));
        Assert.False(Directory.Exists(Path.Combine(folder, "results")));
    }

    [Fact]
    public void Validate_exits_non_zero_on_a_miss_only_when_strict()
    {
        string suite = Virtsim.TempFolder();
        File.WriteAllText(Path.Combine(suite, "far.yaml"), """
            id: far-off
            group: validation
            quantity: call/ret, native, against a made-up figure
            published: 1000
            unit: cycles
            source: made up for a test of the exit code
            tolerance: 0.1
            justification: made to miss
            measure: nanobench
            conditions:
              workload: callret
              size: 100
            """);
        var (lenient, stdout, _) = Virtsim.Run("validate", "--suite", suite, "--out", Path.Combine(Virtsim.TempFolder(), "v1"));
        Assert.Equal(0, lenient);
        Assert.Contains("far-off", stdout, StringComparison.Ordinal);
        Assert.Contains("NO", stdout, StringComparison.Ordinal);
        var (strict, _, _) = Virtsim.Run("validate", "--suite", suite, "--strict", "--out", Path.Combine(Virtsim.TempFolder(), "v2"));
        Assert.Equal(1, strict);
        var (missing, _, stderr) = Virtsim.Run("validate", "--suite", Path.Combine(suite, "nowhere"));
        Assert.Equal(2, missing);
        Assert.Contains("no validation suite here", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_tells_the_anatomy_of_an_operation_under_every_architecture_that_runs_it()
    {
        string folder = Path.Combine(Virtsim.TempFolder(), "explain");
        var (code, stdout, stderr) = Virtsim.Run("explain", "--workload", "in", "--profile", "p4-672", "--compare", "--out", folder);
        Assert.True(code == 0, stderr);
        Assert.Contains("VM exit: IoInstruction (basic reason 30)", stdout, StringComparison.Ordinal);
        Assert.Contains("binary-translation / shadow / emulated / bare-metal", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "trace-native.json")));
        Assert.True(File.Exists(Path.Combine(folder, "timeline-hardware-assist-shadow-emulated-hosted.png")));
        Assert.True(File.Exists(Path.Combine(folder, "compare.png"))); // every architecture on one cycle axis
        Assert.StartsWith("One iteration of 'in'", File.ReadAllText(Path.Combine(folder, "summary.txt")), StringComparison.Ordinal);
        Assert.Contains("Why a monitor can beat native on a port access", stdout, StringComparison.Ordinal);
        var (refused, _, error) = Virtsim.Run("explain", "--workload", "forkwait");
        Assert.Equal(2, refused);
        Assert.Contains("not a nanobenchmark", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_explanation_starts_with_its_summary_and_keeps_its_narration_in_a_file()
    {
        string folder = Path.Combine(Virtsim.TempFolder(), "fork");
        var (code, stdout, stderr) = Virtsim.Run("explain", "--workload", "lat-fork", "--compare", "--out", folder);
        Assert.True(code == 0, stderr);
        Assert.StartsWith("One iteration of 'lat-fork'", stdout, StringComparison.Ordinal);
        Assert.True(stdout.Split('\n').Length < 40, "the summary, not two thousand lines of narration");
        Assert.Contains("is in explain.txt; --verbose prints it", stdout, StringComparison.Ordinal);
        Assert.True(File.ReadAllLines(Path.Combine(folder, "explain.txt")).Length > 1000);
    }

    [Fact]
    public void Reproduce_regenerates_a_committed_results_folder_to_the_byte()
    {
        string root = Virtsim.TempFolder();
        var (code, stdout, stderr) = Virtsim.Run("reproduce", "--only", "in-type1-nehalem", "--results", root);
        Assert.True(code == 0, stderr);
        Assert.Contains("in-type1-nehalem", stdout, StringComparison.Ordinal);
        string committed = Path.Combine(RepositoryRoot(), "results", "in-type1-nehalem");
        string[] files = [.. Directory.GetFiles(committed).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
        Assert.Equal(files, Directory.GetFiles(Path.Combine(root, "in-type1-nehalem")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal));
        foreach (string file in files.Where(f => f is not "manifest.json" && !f.EndsWith(".png", StringComparison.Ordinal)))
        {
            Assert.True(File.ReadAllBytes(Path.Combine(committed, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(root, "in-type1-nehalem", file))),
                $"results/in-type1-nehalem/{file} differs: regenerate it with 'dotnet run --project Sim.Cli -- reproduce'.");
        }
        var (refused, _, error) = Virtsim.Run("reproduce", "--only", "nothing-of-the-kind", "--results", root);
        Assert.Equal(2, refused);
        Assert.Contains("the names are", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Reproduce_regenerates_a_committed_sweep_to_the_byte()
    {
        string root = Virtsim.TempFolder();
        var (code, _, stderr) = Virtsim.Run("reproduce", "--only", "smoke", "--results", root, "--threads", "1");
        Assert.True(code == 0, stderr);
        string committed = Path.Combine(RepositoryRoot(), "results", "smoke");
        string[] Files(string folder) => [.. Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f)).Order(StringComparer.Ordinal)];
        Assert.Equal(Files(committed), Files(Path.Combine(root, "smoke")));
        foreach (string file in Files(committed).Where(f => !f.EndsWith(".png", StringComparison.Ordinal)))
        {
            Assert.True(File.ReadAllBytes(Path.Combine(committed, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(root, "smoke", file))),
                $"results/smoke/{file} differs: regenerate it with 'dotnet run --project Sim.Cli -- reproduce --only smoke'.");
        }
        Assert.False(Directory.Exists(Path.Combine(root, "smoke.new")));
    }

    [Fact]
    public void A_results_folder_s_resolved_scenario_reruns_to_the_same_bytes()
    {
        string committed = Path.Combine(RepositoryRoot(), "results", "in-type1-nehalem");
        string rerun = Path.Combine(Virtsim.TempFolder(), "rerun");
        var (code, _, stderr) = Virtsim.Run("run", Path.Combine(committed, "scenario.json"), "--out", rerun);
        Assert.True(code == 0, stderr);
        foreach (string file in new[] { "stats.csv", "summary.json", "report.md", "scenario.json" })
        {
            Assert.True(File.ReadAllBytes(Path.Combine(committed, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(rerun, file))), $"{file} differs on a rerun");
        }
    }

    [Fact]
    public void An_IO_run_draws_its_latency_distribution()
    {
        string folder = Path.Combine(Virtsim.TempFolder(), "fio");
        var (code, _, stderr) = Virtsim.Run("run", "--workload", "fio-randread", "--size", "50", "--profile", "nehalem-x5570", "--out", folder);
        Assert.True(code == 0, stderr);
        Assert.True(new FileInfo(Path.Combine(folder, "latency.png")).Length > 10_000);
        Assert.Contains("![latency distribution](latency.png)", File.ReadAllText(Path.Combine(folder, "report.md")), StringComparison.Ordinal);
        Assert.Contains("block_latency::p25", File.ReadAllText(Path.Combine(folder, "stats.csv")), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_profile_is_refused_with_the_known_names()
    {
        var (code, _, stderr) = Virtsim.Run("profiles", "p5");
        Assert.Equal(2, code);
        Assert.Contains("p4-672", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Profiles_show_writes_a_built_in_profile_as_a_file_that_a_run_takes_with_the_same_results()
    {
        var (code, yaml, stderr) = Virtsim.Run("profiles", "show", "core2-merom");
        Assert.True(code == 0, stderr);
        Assert.StartsWith("# Hardware profile core2-merom", yaml, StringComparison.Ordinal);
        string folder = Directory.CreateTempSubdirectory("virtsim-profile").FullName;
        try
        {
            string file = Path.Combine(folder, "core2.yaml");
            File.WriteAllText(file, yaml);
            var (a, outA, errA) = Virtsim.Run("run", "--workload", "lat-null", "--size", "2000", "--profile", "core2-merom", "--out", Path.Combine(folder, "a"));
            var (b, outB, errB) = Virtsim.Run("run", "--workload", "lat-null", "--size", "2000", "--profile", "file:" + file, "--out", Path.Combine(folder, "b"));
            Assert.True(a == 0 && b == 0, errA + errB);
            Assert.Equal(File.ReadAllText(Path.Combine(folder, "a", "stats.csv")), File.ReadAllText(Path.Combine(folder, "b", "stats.csv")));
            var (bad, _, why) = Virtsim.Run("profiles", "show", "p5");
            Assert.Equal(2, bad);
            Assert.Contains("p4-672", why, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
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
