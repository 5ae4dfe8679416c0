using System.Diagnostics;

namespace Sim.Cli.Tests;

/// <summary>virtsim density as a user runs it: the folder and its files, a rerun of the resolved study to the same bytes, a killed search resumed to the same bytes, bad files refused with nothing written.</summary>
public class DensityCommandTests
{
    private const string Study = """
        base:
          workload: web
          request_rate: 2000
          size: 30
          profile: nehalem-x5570
          host_memory_mib: 1024
          guest_memory_mib: 256
        presets: [type1, oslevel]
        slo: response_p99 <= 400
        max_guests: 4
        seeds: 2
        """;

    private static string File(string text)
    {
        string path = Path.Combine(Virtsim.TempFolder(), "study.yaml");
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_study_writes_its_folder_and_its_resolved_study_reruns_to_the_same_bytes()
    {
        string first = Path.Combine(Virtsim.TempFolder(), "first");
        var (code, stdout, stderr) = Virtsim.Run("density", File(Study), "--out", first);
        Assert.True(code == 0, stderr);
        Assert.Contains("| type1 | 1 (0-2 at 95%) | service level | host.cpu0 (cpu, busy 37%, not saturated: queueing there) | 2 |", stdout, StringComparison.Ordinal);
        Assert.Contains("oslevel", stderr, StringComparison.Ordinal); // a line per probe as it ends
        foreach (string f in new[] { "density.csv", "probes.csv", "report.md", "density.png", "study.json", "manifest.json" })
        {
            Assert.True(System.IO.File.Exists(Path.Combine(first, f)), f);
        }
        string second = Path.Combine(Virtsim.TempFolder(), "second");
        Assert.Equal(0, Virtsim.Run("density", Path.Combine(first, "study.json"), "--out", second).ExitCode);
        foreach (string f in new[] { "density.csv", "probes.csv", "report.md", "study.json" })
        {
            Assert.Equal(System.IO.File.ReadAllText(Path.Combine(first, f)), System.IO.File.ReadAllText(Path.Combine(second, f)));
        }
    }

    [Fact]
    public void The_command_line_overrides_the_study_s_presets_level_and_maximum()
    {
        string folder = Path.Combine(Virtsim.TempFolder(), "over");
        var (code, _, stderr) = Virtsim.Run("density", File(Study), "--out", folder, "--presets", "oslevel", "--slo", "response_p99 <= 5000", "--max-guests", "2");
        Assert.True(code == 0, stderr);
        string[] rows = System.IO.File.ReadAllLines(Path.Combine(folder, "density.csv"));
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("oslevel,2,max guests,", rows[1], StringComparison.Ordinal);
        Assert.Contains("\"slo\": \"response_p99 <= 5000\"", System.IO.File.ReadAllText(Path.Combine(folder, "study.json")), StringComparison.Ordinal);
        var (bad, _, message) = Virtsim.Run("density", File(Study), "--out", Path.Combine(Virtsim.TempFolder(), "never"), "--presets", "native");
        Assert.Equal(2, bad);
        Assert.Contains("'native' is not a virtualization preset", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_killed_search_resumes_from_its_kept_runs_to_the_bytes_of_an_uninterrupted_one()
    {
        string study = File(Study.Replace("max_guests: 4", "max_guests: 6", StringComparison.Ordinal).Replace("seeds: 2", "seeds: 3", StringComparison.Ordinal));
        string whole = Path.Combine(Virtsim.TempFolder(), "whole");
        Assert.Equal(0, Virtsim.Run("density", study, "--out", whole, "--threads", "1").ExitCode);

        string parent = Virtsim.TempFolder();
        string resumed = Path.Combine(parent, "out");
        string kept = Path.Combine(parent, ".out.probes");
        string[] args = ["density", study, "--out", resumed, "--threads", "1"];
        using (Process first = Virtsim.Start(args))
        {
            var watch = Stopwatch.StartNew();
            while (!(Directory.Exists(kept) && Directory.GetFiles(kept, "*-s*.json").Length >= 2) && !first.HasExited && watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(10);
            }
            Assert.False(first.HasExited, "the search ended before it could be interrupted");
            first.Kill(entireProcessTree: true);
            first.WaitForExit();
        }
        Assert.False(Directory.Exists(resumed)); // interrupted: no results folder that looks complete

        // The study file changed since: refused, with nothing written and the kept runs left alone.
        var (refused, _, why) = Virtsim.Run("density", File(System.IO.File.ReadAllText(study).Replace("request_rate: 2000", "request_rate: 1500", StringComparison.Ordinal)), "--out", resumed);
        Assert.Equal(2, refused);
        Assert.Contains("base.request_rate 2000 -> 1500", why, StringComparison.Ordinal);
        Assert.False(Directory.Exists(resumed));

        var (code, _, stderr) = Virtsim.Run(args);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"density: \d+ run\(s\) kept from an interrupted search of the same study", stderr);
        foreach (string f in new[] { "density.csv", "probes.csv", "report.md", "study.json" })
        {
            Assert.Equal(System.IO.File.ReadAllText(Path.Combine(whole, f)), System.IO.File.ReadAllText(Path.Combine(resumed, f)));
        }
        Assert.False(Directory.Exists(kept)); // done: nothing kept any more
    }

    [Fact]
    public void Shards_run_apart_leave_the_runs_the_whole_study_writes_its_results_from()
    {
        string study = File(Study);
        string whole = Path.Combine(Virtsim.TempFolder(), "whole");
        Assert.Equal(0, Virtsim.Run("density", study, "--out", whole).ExitCode);

        string sharded = Path.Combine(Virtsim.TempFolder(), "out");
        foreach (string part in new[] { "2/2", "1/2" })
        {
            var (code, stdout, stderr) = Virtsim.Run("density", study, "--out", sharded, "--shard", part);
            Assert.True(code == 0, stderr);
            Assert.Contains($"Shard {part} done ({(part == "1/2" ? "type1" : "oslevel")})", stdout, StringComparison.Ordinal);
            Assert.False(Directory.Exists(sharded)); // a shard writes no results
        }
        var (last, _, said) = Virtsim.Run("density", study, "--out", sharded);
        Assert.True(last == 0, said);
        string[] probes = System.IO.File.ReadAllLines(Path.Combine(whole, "probes.csv"));
        int seedsColumn = Array.IndexOf(probes[0].Split(','), "seeds");
        int runs = probes.Skip(1).Sum(l => int.Parse(l.Split(',')[seedsColumn], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains($"density: {runs} run(s) kept from an interrupted search of the same study, or by its shards", said, StringComparison.Ordinal); // nothing simulated again
        foreach (string f in new[] { "density.csv", "probes.csv", "report.md", "study.json" })
        {
            Assert.Equal(System.IO.File.ReadAllText(Path.Combine(whole, f)), System.IO.File.ReadAllText(Path.Combine(sharded, f)));
        }

        Assert.Equal(2, Virtsim.Run("density", study, "--out", sharded, "--shard", "3/2").ExitCode);
        var (restarted, _, why) = Virtsim.Run("density", study, "--out", sharded, "--shard", "1/2", "--restart");
        Assert.Equal(2, restarted);
        Assert.Contains("--restart cannot be given to a shard", why, StringComparison.Ordinal);
    }

    [Fact]
    public void The_Slurm_script_runs_a_shard_of_the_resolved_study_per_array_task()
    {
        string target = Path.Combine(Virtsim.TempFolder(), "out");
        var (code, stdout, stderr) = Virtsim.Run("density", File(Study), "--out", target, "--emit-slurm", "2", "--seeds", "3");
        Assert.True(code == 0, stderr);
        string folder = Path.Combine(Path.GetDirectoryName(target)!, ".out.probes");
        string script = System.IO.File.ReadAllText(Path.Combine(folder, "density.sbatch"));
        Assert.Contains(Path.Combine(folder, "density.sbatch"), stdout, StringComparison.Ordinal);
        Assert.Contains("#SBATCH --array=1-2", script, StringComparison.Ordinal);
        Assert.Contains($"density {Path.Combine(folder, "resolved", "study.json")} --out {target} --shard \"$SLURM_ARRAY_TASK_ID/2\"", script, StringComparison.Ordinal);
        Assert.Contains("\"seeds\": 3", System.IO.File.ReadAllText(Path.Combine(folder, "resolved", "study.json")), StringComparison.Ordinal); // the command line's overrides, resolved
        Assert.False(Directory.Exists(target));

        var (bad, _, message) = Virtsim.Run("density", File(Study), "--out", target, "--emit-slurm", "3");
        Assert.Equal(2, bad);
        Assert.Contains("1 to the study's 2 preset(s)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_study_is_refused_and_nothing_is_written()
    {
        string target = Path.Combine(Virtsim.TempFolder(), "never");
        var (code, _, stderr) = Virtsim.Run("density", File(Study.Replace("response_p99 <= 400", "fast please", StringComparison.Ordinal)), "--out", target);
        Assert.Equal(2, code);
        Assert.Contains("study.yaml, line 9: slo: 'fast please' is not a service level", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public void Virtual_machines_beyond_the_host_s_memory_are_refused_by_run()
    {
        var (code, _, stderr) = Virtsim.Run("run", "--workload", "lat-null", "--profile", "nehalem-x5570", "--preset", "type1", "--guests", "8",
            "--host-memory-mib", "2048", "--out", Path.Combine(Virtsim.TempFolder(), "x"));
        Assert.Equal(2, code);
        Assert.Contains("8 virtual machines of 512 MiB with their EPT tables (10 MiB) and the hypervisor's 256 MiB need 4362 MiB, and the host has 2048 MiB", stderr, StringComparison.Ordinal);
    }
}
