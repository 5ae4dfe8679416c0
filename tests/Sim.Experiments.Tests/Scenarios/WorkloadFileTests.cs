using Sim.Experiments.Density;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Scenarios;

/// <summary>A planner's own service as a workload file: it runs under the presets, reproduces its own per-request figures, and bad files are refused with the file and line.</summary>
public class WorkloadFileTests
{
    private const string Shop = """
        # figures for illustration, not a measurement
        name: shop
        per_request:
          instructions: 120000
          memory: {references: 6000, store_share: 0.3, working_set_kib: 2048, hot_kib: 256, hot_share: 0.9}
          syscalls: {clock_gettime: 2, stat: 1, read: 2, write: 1, getpid: 0.5}
          files_opened: 1
          minor_faults: 0.5
          context_switches: 1.2
          packets_in: {count: 1, bytes: 300}
          packets_out: {count: 4, bytes: 1448}
          block_reads: {count: 0.2, bytes: 4096}
          block_writes: {count: 0.1, bytes: 4096}
        process: {threads: 2}
        arrival: {rate: 1000}
        memory: {resident_mib: 16, mapped_files_mib: 6}
        """;

    private static string Write(string text, string name = "shop.yaml")
    {
        string folder = Path.Combine(Path.GetTempPath(), "virtsim-workload-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_workload_file_s_run_reproduces_its_own_per_request_figures_within_5_percent()
    {
        IReadOnlyList<CheckedFigure> figures = WorkloadCheck.Run(WorkloadFile.Prefix + Write(Shop), "nehalem-x5570", 100);
        CheckedFigure Figure(string quantity) => figures.Single(f => f.Quantity == quantity);
        Assert.All(figures.Where(f => f.Imposed), f => Assert.True(f.Within, $"{f.Quantity}: asked {f.Asked}, simulated {f.Simulated}"));
        Assert.Equal(1 + 4 + 6.5 + 2 + 1 + 0.3, Figure("system calls").Asked!.Value, 9);
        Assert.InRange(Figure("system calls").Simulated, 14.8 * 0.99, 14.8 * 1.03); // the workers' reopenings of their files add a little
        Assert.Equal(4, Figure("packets out").Simulated);
        Assert.Equal(0.3, Figure("block I/Os (reads and writes)").Simulated, 9);
        Assert.Equal(0.5, Figure("minor page faults").Simulated, 9);
        Assert.False(Figure("voluntary context switches").Imposed); // shown, not made
        Assert.InRange(Figure("instructions, user and kernel").Simulated, 120_000, 200_000); // the kernel's on top of the file's user-mode 120,000
    }

    [Theory]
    [InlineData("native")]
    [InlineData("type1")]
    [InlineData("type2")]
    [InlineData("oslevel")]
    public void A_workload_file_runs_under_the_presets_and_reruns_to_the_same_figures(string preset)
    {
        var scenario = new WorkloadScenario { Workload = WorkloadFile.Prefix + Write(Shop), Profile = "nehalem-x5570", Preset = preset, Size = 60 };
        Assert.Null(scenario.FirstProblem());
        WorkloadRunResult first = scenario.RunOnce(42), again = scenario.RunOnce(42);
        Assert.Equal(["requests", "response_mean", "response_p50", "response_p99", "requests_lost"], first.FiguresOfMerit.Select(m => m.Name));
        Assert.True(first.FiguresOfMerit[3].Value is > 0 and < 100_000, $"p99 {first.FiguresOfMerit[3].Value} us");
        Assert.Equal(first.FiguresOfMerit.Select(m => m.Value), again.FiguresOfMerit.Select(m => m.Value));
        Assert.StartsWith("shop-nehalem-x5570-", scenario.DefaultFolderName(), StringComparison.Ordinal);
        Assert.Equal(64, ((string)scenario.Resolved()["workload_sha256"]).Length);
    }

    [Fact]
    public void The_scenario_s_rate_and_threads_replace_the_file_s()
    {
        string file = WorkloadFile.Prefix + Write(Shop);
        var scenario = new WorkloadScenario { Workload = file, Profile = "nehalem-x5570", RequestRate = 250, Threads = 3 };
        var service = (Service)scenario.ResolveWorkload().Workload;
        Assert.Equal(250, service.Spec.RequestRate);
        Assert.Equal(3, service.Threads);
        Assert.Equal(2, ((Service)(scenario with { RequestRate = null, Threads = 1 }).ResolveWorkload().Workload).Threads); // the file's own
        Assert.Equal(WorkloadFile.DefaultSize, scenario.ResolveWorkload().Size);
    }

    [Fact]
    public void A_density_study_searches_a_workload_file_s_service()
    {
        string path = Write(Shop);
        DensityStudy study = DensityStudy.Parse($"base: {{workload: 'file:{path}', profile: nehalem-x5570, size: 40, host_memory_mib: 2048, guest_memory_mib: 256}}\npresets: [oslevel]\nslo: response_p99 <= 3000\nmax_guests: 4\nseeds: 1",
            "shop-study.yaml", "shop-study");
        DensityResult result = Assert.Single(DensitySearch.Run(study));
        Assert.Equal(4, result.Density);
        Assert.Equal("max guests", result.BoundBy);
    }

    [Theory]
    [InlineData("per_request: {instructions: 1000, caches: 2}", "shop.yaml, line 1: unknown key 'caches' in per_request; the keys are instructions, memory, syscalls")]
    [InlineData("per_request: {instructions: 1000}\narrival: {rate: -5}", "shop.yaml, line 2: arrival: rate (requests a second): -5 is outside 0.001 to 100000000")]
    [InlineData("per_request:\n  instructions: 1000\n  memory: {working_set_kib: 4 MiB}", "shop.yaml, line 3: per_request: memory: working_set_kib (KiB): '4 MiB' is not a number; give a plain number in the key's unit")]
    [InlineData("per_request:\n  instructions: 500\n  memory: {references: 1000}", "the model cannot produce these figures: 500 instructions a request cannot make its 1000 memory references and 2 system calls")]
    [InlineData("per_request:\n  instructions: 1000\n  syscalls: {epoll_wait: 1}", "shop.yaml, line 3: unknown key 'epoll_wait' in per_request: syscalls; the keys are getpid, clock_gettime")]
    [InlineData("per_request:\n  instructions: 1000\n  packets_in: {count: 65}", "shop.yaml, line 3: per_request: packets_in: count is the packets of every request, a whole number from 1 to 64, not 65")]
    [InlineData("per_request:\n  instructions: 1000\n  block_reads: {count: 1, bytes: 8192}", "bytes must be 4096: the kernel model's block requests are one page")]
    [InlineData("per_request:\n  instructions: 1000\n  packets_out: {count: 2.5}", "count is the packets of every answer, a whole number from 1 to 1024, not 2.5")]
    [InlineData("per_request:\n  instructions: 1000\n  memory: {working_set_kib: 64, hot_kib: 128}", "the hot part (131072 bytes) must be at least a page and at most the working set (65536 bytes)")]
    [InlineData("per_request: {instructions: 1000}\nmemory: {resident_mib: 1, mapped_files_mib: 2}", "the resident memory (1048576 bytes) must hold the working set (262144) and the mapped files (2097152)")]
    [InlineData("per_request: {instructions: 1000}\nprocess: {threads: 0}", "shop.yaml, line 2: process: threads: 0 is outside 1 to 1024")]
    [InlineData("name: web\nper_request: {instructions: 1000}", "name: 'web' must be 1 to 60 letters, digits, '-' or '_', and not a built-in workload's name")]
    [InlineData("arrival: {rate: 5}", "shop.yaml: per_request is missing")]
    [InlineData("- 1\n- 2", "shop.yaml: a workload file is a mapping of name, description, per_request, process, arrival, memory")]
    public void A_bad_workload_file_is_refused_with_the_file_line_and_what_is_allowed(string text, string expected)
    {
        var e = Assert.Throws<ScenarioException>(() => WorkloadFile.Parse(text, "shop.yaml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_named_as_a_built_in_workload_must_name_its_service()
    {
        var e = Assert.Throws<ScenarioException>(() => WorkloadFile.Parse("per_request: {instructions: 1000}", "dir/web.yaml"));
        Assert.Contains("dir/web.yaml: the file's name 'web' cannot name the service", e.Message, StringComparison.Ordinal);
        Assert.Equal("mine", WorkloadFile.Parse("name: mine\nper_request: {instructions: 1000}", "dir/web.yaml").Name);
    }

    [Fact]
    public void A_scenario_names_a_missing_or_bad_workload_file_before_anything_runs()
    {
        var missing = new WorkloadScenario { Workload = "file:/nowhere/service.yaml" };
        Assert.Contains("/nowhere/service.yaml: cannot read the workload file", missing.Problem("workload"), StringComparison.Ordinal);
        var bad = new WorkloadScenario { Workload = WorkloadFile.Prefix + Write("per_request: {instructions: x}") };
        Assert.Contains("per_request: instructions (user-mode instructions a request): 'x' is not a number", bad.Problem("workload"), StringComparison.Ordinal);
    }

    [Fact]
    public void An_arrival_trace_is_replayed_gap_by_gap_whatever_the_seed()
    {
        // Bursts of ten requests 100 us apart every 20 ms, from a log's absolute timestamps.
        string yaml = Write(Shop.Replace("arrival: {rate: 1000}", "arrival: {trace: arrivals.csv}", StringComparison.Ordinal));
        string folder = Path.GetDirectoryName(yaml)!;
        double t = 1.7e15;
        File.WriteAllLines(Path.Combine(folder, "arrivals.csv"), ["host,arrival_us", .. Enumerable.Range(0, 50).Select(i => $"a,{t += (i % 10 == 0 ? 20_000 : 100):R}")]);
        Service service = WorkloadFile.Parse(File.ReadAllText(yaml), yaml);
        Assert.Equal(49, service.Spec.ArrivalGapsMicroseconds!.Count);
        Assert.Equal([100.0, 100, 100], service.Spec.ArrivalGapsMicroseconds.Take(3));
        Assert.Null(service.Spec.RequestRate);

        var scenario = new WorkloadScenario { Workload = WorkloadFile.Prefix + yaml, Profile = "nehalem-x5570", Preset = "native", Size = 100 };
        WorkloadRunResult one = scenario.RunOnce(1), other = scenario.RunOnce(2);
        double requests = one.FiguresOfMerit.Single(m => m.Name == "requests").Value;
        IReadOnlyList<double> gaps = service.Spec.ArrivalGapsMicroseconds;
        double span = Enumerable.Range(0, 99).Sum(i => gaps[i % gaps.Count]); // 100 arrivals, the trace's 49 gaps and then its first 50 again
        Assert.InRange(requests, 100 / (span * 1e-6) * 0.97, 100 / (span * 1e-6)); // served as they came, the last answer a little after its arrival
        Assert.InRange(other.FiguresOfMerit.Single(m => m.Name == "requests").Value, requests - 0.1, requests + 0.1); // the arrivals are the trace's, not the seed's (only the last answer's service differs)
        Assert.True(one.FiguresOfMerit.Single(m => m.Name == "response_p99").Value > one.FiguresOfMerit.Single(m => m.Name == "response_p50").Value * 1.5, "a burst queues behind itself");

        // The trace is part of the service: its checksum changes with it; a scenario's rate replaces it.
        string before = (string)scenario.Resolved()["workload_sha256"];
        File.AppendAllText(Path.Combine(folder, "arrivals.csv"), $"a,{t + 5:R}\n");
        Assert.NotEqual(before, (string)scenario.Resolved()["workload_sha256"]);
        Assert.Equal(300, ((Service)(scenario with { RequestRate = 300 }).ResolveWorkload().Workload).Spec.RequestRate);
    }

    [Theory]
    [InlineData("", "arrival: trace: there is no file")]
    [InlineData("time\n1\n2", "has no column arrival_us in its first line")]
    [InlineData("arrival_us\n10\nsoon", "arrivals.csv, line 3: arrival_us 'soon' is not a time in microseconds")]
    [InlineData("arrival_us\n10\n5", "arrivals.csv, line 3: the arrival at 5 us comes before the one above it (10 us)")]
    [InlineData("arrival_us\n10", "holds 1 arrival(s); a trace needs at least two")]
    [InlineData("arrival_us\n10\n10", "holds 2 arrival(s), all at one time")]
    public void A_bad_arrival_trace_is_refused_with_its_file_and_line(string csv, string expected)
    {
        string yaml = Write(Shop.Replace("arrival: {rate: 1000}", "arrival: {trace: arrivals.csv}", StringComparison.Ordinal));
        if (csv.Length > 0)
        {
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(yaml)!, "arrivals.csv"), csv);
        }
        var e = Assert.Throws<ScenarioException>(() => WorkloadFile.Parse(File.ReadAllText(yaml), yaml));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_CGI_like_service_forks_a_child_a_request_that_executes_its_program()
    {
        string cgi = WorkloadFile.Prefix + Write(Shop.Replace("process: {threads: 2}", "process: {threads: 2, forks_per_request: 1}", StringComparison.Ordinal));
        IReadOnlyList<CheckedFigure> figures = WorkloadCheck.Run(cgi, "nehalem-x5570", 40);
        Assert.All(figures.Where(f => f.Imposed), f => Assert.True(f.Within, $"{f.Quantity}: asked {f.Asked}, simulated {f.Simulated}"));
        Assert.Equal(14.8 + 4, figures.Single(f => f.Quantity == "system calls").Asked!.Value, 9); // fork, execve, exit_group and wait4 a request
        CheckedFigure faults = figures.Single(f => f.Quantity.StartsWith("minor page faults", StringComparison.Ordinal));
        Assert.False(faults.Imposed);
        Assert.True(faults.Simulated > 20, $"{faults.Simulated} faults a request: the parent's copies on write and the child's program");

        var scenario = new WorkloadScenario { Workload = cgi, Profile = "nehalem-x5570", Preset = "type1", Size = 30 };
        WorkloadRunResult forked = scenario.RunOnce(1);
        WorkloadRunResult plain = (scenario with { Workload = WorkloadFile.Prefix + Write(Shop) }).RunOnce(1);
        Assert.Equal(30, forked.Stat("vm0.kernel", "forks"));
        Assert.True(forked.FiguresOfMerit.Single(m => m.Name == "response_mean").Value > 1.5 * plain.FiguresOfMerit.Single(m => m.Name == "response_mean").Value, "a fork and exec a request costs");
        Assert.Contains("process: forks_per_request (children a request forks): 17 is outside 0 to 16",
            Assert.Throws<ScenarioException>(() => WorkloadFile.Parse(Shop.Replace("process: {threads: 2}", "process: {forks_per_request: 17}", StringComparison.Ordinal), "shop.yaml")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_major_fault_reads_a_page_of_a_mapped_file_from_the_disk_while_the_worker_waits()
    {
        string file = WorkloadFile.Prefix + Write(Shop.Replace("  minor_faults: 0.5", "  minor_faults: 0.5\n  major_faults: 0.5", StringComparison.Ordinal));
        IReadOnlyList<CheckedFigure> figures = WorkloadCheck.Run(file, "nehalem-x5570", 40);
        Assert.All(figures.Where(f => f.Imposed), f => Assert.True(f.Within, $"{f.Quantity}: asked {f.Asked}, simulated {f.Simulated}"));
        Assert.Equal(0.5, figures.Single(f => f.Quantity == "major page faults").Simulated, 9);
        Assert.Equal(0.5, figures.Single(f => f.Quantity == "minor page faults").Simulated, 9); // a major fault is not counted as a minor one too

        foreach (string preset in new[] { "type1", "oslevel" })
        {
            var scenario = new WorkloadScenario { Workload = file, Profile = "nehalem-x5570", Preset = preset, Size = 40, Guests = 2 };
            WorkloadRunResult r = scenario.RunOnce(1);
            string[] kernels = preset == "oslevel" ? ["host.kernel"] : ["vm0.kernel", "vm1.kernel"];
            Assert.Equal(40, kernels.Sum(k => r.Stat(k + ".filemap", "major_faults"))); // each guest's 20, from its own file: another's cached pages are not its
            Assert.True(r.Stat("host.disk0.medium", "requests") >= 40 + 8, "every major fault is a read of the disk, besides the block reads");
        }
        WorkloadRunResult plain = new WorkloadScenario { Workload = WorkloadFile.Prefix + Write(Shop), Profile = "nehalem-x5570", Preset = "native", Size = 40 }.RunOnce(1);
        Assert.Equal(0, plain.Stat("host.kernel.filemap", "major_faults")); // none asked: no such counter either
        Assert.Contains("per_request: major_faults (reads of a mapped file's pages from the disk): 65 is outside 0 to 64",
            Assert.Throws<ScenarioException>(() => WorkloadFile.Parse(Shop.Replace("  minor_faults: 0.5", "  major_faults: 65", StringComparison.Ordinal), "shop.yaml")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_of_several_packets_is_reassembled_by_its_id_and_served_once_whole()
    {
        string file = WorkloadFile.Prefix + Write(Shop.Replace("packets_in: {count: 1, bytes: 300}", "packets_in: {count: 3, bytes: 1000}", StringComparison.Ordinal));
        IReadOnlyList<CheckedFigure> figures = WorkloadCheck.Run(file, "nehalem-x5570", 40);
        Assert.All(figures.Where(f => f.Imposed), f => Assert.True(f.Within, $"{f.Quantity}: asked {f.Asked}, simulated {f.Simulated}"));
        Assert.Equal(3, figures.Single(f => f.Quantity == "packets in").Simulated, 9);
        Assert.Equal(4, figures.Single(f => f.Quantity == "packets out").Simulated, 9); // one answer a request, not one a packet

        foreach (string preset in new[] { "type1", "oslevel" })
        {
            var scenario = new WorkloadScenario { Workload = file, Profile = "nehalem-x5570", Preset = preset, Size = 40, Guests = 2 };
            WorkloadRunResult r = scenario.RunOnce(1);
            Assert.Equal(0, r.FiguresOfMerit.Single(m => m.Name == "requests_lost").Value);
            Assert.True(r.FiguresOfMerit.Single(m => m.Name == "response_p50").Value > 0);
            Assert.Equal(r.Run.Samples, scenario.RunOnce(1).Run.Samples); // reassembly by workers is deterministic
        }

        // Overloaded: the NIC drops packets of some requests and takes the others' rest; the workers read those too, and every whole request is answered once.
        string flood = WorkloadFile.Prefix + Write(Shop.Replace("packets_in: {count: 1, bytes: 300}", "packets_in: {count: 16, bytes: 1400}", StringComparison.Ordinal)
            .Replace("arrival: {rate: 1000}", "arrival: {rate: 200000}", StringComparison.Ordinal).Replace("process: {threads: 2}", "process: {threads: 3}", StringComparison.Ordinal));
        WorkloadRunResult overloaded = new WorkloadScenario { Workload = flood, Profile = "nehalem-x5570", Preset = "oslevel", Size = 100 }.RunOnce(1);
        Assert.True(overloaded.FiguresOfMerit.Single(m => m.Name == "requests_lost").Value > 0, "the flood overruns the receive ring");
        Assert.Equal(100 * 4, overloaded.Stat("host.nic0", "frames_sent"));
    }

    [Fact]
    public void Voluntary_switches_are_counted_as_Linux_counts_them_each_time_a_worker_blocks()
    {
        // Closed loop, one worker: it blocks once a request for the next one, once for its block read, and for a tenth of one for its block writes.
        string file = WorkloadFile.Prefix + Write(Shop.Replace("process: {threads: 2}", "process: {threads: 1}", StringComparison.Ordinal)
            .Replace("arrival: {rate: 1000}\n", "", StringComparison.Ordinal).Replace("block_reads: {count: 0.2, bytes: 4096}", "block_reads: {count: 1, bytes: 4096}", StringComparison.Ordinal));
        CheckedFigure switches = WorkloadCheck.Run(file, "nehalem-x5570", 40).Single(f => f.Quantity == "voluntary context switches");
        Assert.Equal(1.2, switches.Asked);
        Assert.Equal(1 + 1 + 0.1, switches.Simulated, 9);
    }
}
