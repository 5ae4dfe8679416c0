using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

public class SmpRunTests
{
    private static double Units(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "units").Value;

    [Fact]
    public void A_build_with_eight_jobs_on_eight_CPUs_is_at_least_five_times_as_fast_as_with_one()
    {
        var one = new WorkloadScenario { Workload = "kernel-build", Profile = "nehalem-x5570", Size = 8, HostCores = 8, Jobs = 1 };
        WorkloadRunResult serial = one.RunOnce(1), parallel = (one with { Jobs = 8 }).RunOnce(1);
        Assert.True(Units(parallel) >= 5 * Units(serial), $"{Units(parallel):F1} units/s with -j8 against {Units(serial):F1} with -j1");
        // Every CPU's cycles are in the outcome: eight CPUs' worth of busy and idle time.
        Assert.InRange(parallel.Outcome.CoreCycles / (parallel.Outcome.SimulatedSeconds * 2.93e9), 7.9, 8.1);
    }

    [Fact]
    public void A_virtual_machine_s_memory_lies_on_the_node_of_the_core_it_runs_on()
    {
        // Five VMs round-robin on two sockets of four cores: the fifth runs on CPU 4, socket 1.
        var s = new WorkloadScenario { Workload = "compute", Profile = "nehalem-x5570", Preset = "type1", Size = 2_000, HostCores = 8, Guests = 5, HostMemoryMiB = 8192, GuestMemoryMiB = 256 };
        WorkloadRunResult r = s.RunOnce(1);
        Assert.True(r.Run.Value("host.socket1.memory_controller", "lines") > 0, "no line came from socket 1's memory");
        double local = r.Run.Value("host.cpu4.memory", "served_by::Dram"), remote = r.Run.Value("host.cpu4.memory", "served_by::RemoteDram");
        Assert.True(local > 10 * remote, $"CPU 4: {local} lines from local memory, {remote} from remote (the EPT tables and the hypervisor's structures, on node 0)");
    }

    [Theory]
    [InlineData("host_cores", "9", "host_cores must be 1 to 8 on nehalem-x5570")]
    [InlineData("jobs", "0", "jobs must be 1 to 1024")]
    [InlineData("sync_quantum_ns", "20000", "sync_quantum_ns must be 0")]
    public void A_host_the_profile_cannot_have_or_a_bad_job_count_is_refused(string key, string value, string says)
    {
        var s = new WorkloadScenario { Workload = "kernel-build", Profile = "nehalem-x5570" };
        s = key switch
        {
            "host_cores" => s with { HostCores = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "jobs" => s with { Jobs = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            _ => s with { SyncQuantumNs = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
        };
        Assert.Contains(says, s.Problem(key), StringComparison.Ordinal);
        Assert.Contains("jobs is make -j for kernel-build and numjobs for fio-randread", (new WorkloadScenario { Workload = "web", Jobs = 4 }).Problem("jobs"), StringComparison.Ordinal);
    }

    private static double Figure(WorkloadRunResult r, string name) => r.FiguresOfMerit.Single(m => m.Name == name).Value;

    [Fact]
    public void A_contended_spinlock_makes_each_increment_slower_than_alone()
    {
        var alone = new WorkloadScenario { Workload = "lock-counter", Profile = "nehalem-x5570", Size = 2_000, HostCores = 4 };
        double one = Figure(alone.RunOnce(1), "increment_ns"), four = Figure((alone with { Threads = 4 }).RunOnce(1), "increment_ns");
        Assert.True(four > 1.5 * one, $"{four:F1} ns per increment with 4 threads against {one:F1} alone");
        // The section is timed between two barriers, so the process's start and exit are outside it:
        // one thread's increment costs the same on one CPU as on four.
        double uniprocessor = Figure((alone with { HostCores = 1 }).RunOnce(1), "increment_ns");
        Assert.InRange(uniprocessor, 0.99 * one, 1.01 * one);
    }

    [Theory]
    [InlineData(600, 8)]
    [InlineData(700, 4)]
    [InlineData(300, 12)]
    public void Threads_that_exit_while_the_last_one_tears_the_process_down_run_to_the_end(int size, int threads)
    {
        // Each exiting thread clears its ID word for its joiner; the last thread's exit, built while
        // another's path still ran, unmapped the process first, and that put_user faulted on a CPU
        // with no current process (these three crashed until 2026-12-07).
        var s = new WorkloadScenario { Workload = "mutex-counter", Profile = "skylake-sp", HostCores = 16, Size = size, Threads = threads };
        Assert.True(Figure(s.RunOnce(1), "increment_ns") > 0);
    }

    [Fact]
    public void A_short_benchmark_ends_where_its_last_exit_path_ends_on_one_CPU_and_on_several()
    {
        // The run's time includes the last process's exit: an SMP kernel must mark the end where a
        // kernel of one CPU does, after that path, or a short run that times itself whole shifts.
        var s = new WorkloadScenario { Workload = "lat-null", Profile = "nehalem-x5570", HostCores = 1 };
        double one = s.RunOnce(1).Outcome.SimulatedSeconds, eight = (s with { HostCores = 8 }).RunOnce(1).Outcome.SimulatedSeconds;
        Assert.InRange(eight, 0.99 * one, 1.01 * one);
    }

    [Fact]
    public void A_shootdown_round_takes_longer_with_more_CPUs_to_flush()
    {
        var s = new WorkloadScenario { Workload = "tlb-shootdown", Profile = "nehalem-x5570", Size = 100, HostCores = 8 };
        double alone = Figure(s.RunOnce(1), "round_us"), two = Figure((s with { Threads = 2 }).RunOnce(1), "round_us"), eight = Figure((s with { Threads = 8 }).RunOnce(1), "round_us");
        Assert.True(alone < two && two < eight, $"{alone:F2}, {two:F2}, {eight:F2} us per round with 1, 2 and 8 threads");
    }

    [Fact]
    public void Threads_are_refused_for_a_workload_that_has_none()
    {
        Assert.Contains("process_threads is for the threaded workloads (web, oltp, lock-counter, mutex-counter, tlb-shootdown, stream-threads), not lat-null", new WorkloadScenario { Workload = "lat-null", Threads = 2 }.Problem("process_threads"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("threads_per_core: 3\n", "threads_per_core must be 1 to 2 on nehalem-x5570 (2 socket(s) x 4 core(s) x 2 thread(s)) (got 3)")]
    [InlineData("sockets: 3\n", "sockets must be 1 to 2 on nehalem-x5570")]
    [InlineData("cores_per_socket: 0\n", "cores_per_socket must be 1 to 4 on nehalem-x5570")]
    [InlineData("threads_per_core: 2\nhost_cores: 3\n", "give host_cores or the topology, not both")]
    [InlineData("host_cores: 4\npreset: oslevel\ncontainer_cpuset: 0-9\n", "container_cpuset names CPU 9, and the host has CPUs 0 to 3")]
    [InlineData("host_cores: 4\npreset: oslevel\ncontainer_cpuset: 2-\n", "container_cpuset must be a list of CPUs")]
    [InlineData("host_cores: 2\npreset: oslevel\ncontainer_cpus: 3\n", "container_cpus must be more than 0 and at most the host's 2 CPU(s)")]
    [InlineData("preset: oslevel\ncontainer_shares: 1\n", "container_shares must be a weight or a comma list of weights, each 2 to 262144, as cpu.shares takes (got '1')")]
    [InlineData("preset: oslevel\ncontainer_shares: 2048,lots\n", "container_shares must be a weight or a comma list of weights")]
    public void A_topology_the_part_cannot_have_is_refused_with_the_file_and_line(string keys, string says)
    {
        string file = Path.Combine(Path.GetTempPath(), $"topology-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "workload: kernel-build\nprofile: nehalem-x5570\n" + keys);
        try
        {
            var e = Assert.Throws<ScenarioException>(() => ScenarioFile.Load(file));
            Assert.Contains(says, e.Message, StringComparison.Ordinal);
            Assert.Contains(Path.GetFileName(file), e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_topology_keys_default_to_the_profile_s_and_resolve_to_the_machine_in_use()
    {
        var smt = new WorkloadScenario { Workload = "kernel-build", Profile = "nehalem-x5570", ThreadsPerCore = 2, Sockets = 1 };
        Assert.Null(smt.FirstProblem());
        Assert.Equal(new Sim.Models.Hardware.Topology(1, 4, 2), smt.ResolveTopology());
        Assert.Equal(4, smt.ResolveConsolidation().HostCores);
        Assert.Equal(2, smt.ResolveMachine().ThreadsPerCore);
        Assert.Equal(1, smt.Resolved()["sockets"]);
        Assert.Equal("none", smt.Resolved()["cores_per_socket"]); // as given, so that the resolved scenario reads back the same
        Assert.Equal(new Sim.Models.Hardware.Topology(1, 4, 1), new WorkloadScenario { Workload = "kernel-build", Profile = "nehalem-x5570", HostCores = 3 }.ResolveTopology());
    }

    /// <summary>
    /// Two compiles on one core: time-shared on one thread, each has the core's 256 KiB L2 to
    /// itself for a slice; on the core's two threads at once, their working sets of about that
    /// size each share it, and it misses far more.
    /// </summary>
    [Fact]
    public void Two_threads_of_a_core_share_its_caches_and_contend_for_them()
    {
        var cores = new WorkloadScenario { Workload = "kernel-build", Profile = "nehalem-x5570", Size = 2, Jobs = 2, Sockets = 1, CoresPerSocket = 1, ThreadsPerCore = 1 };
        WorkloadRunResult one = cores.RunOnce(1), smt = (cores with { ThreadsPerCore = 2 }).RunOnce(1);
        static double L2Misses(WorkloadRunResult r) => r.Run.Value("host.cpu0.l2", "misses");
        Assert.True(L2Misses(smt) > 3 * L2Misses(one), $"{L2Misses(smt)} L2 misses on two threads against {L2Misses(one)} time-shared");
        Assert.InRange(smt.Outcome.CoreCycles / (smt.Outcome.SimulatedSeconds * 2.93e9), 1.9, 2.1); // two logical CPUs' worth of time
        Assert.True(smt.Run.Value("host.cpu1", "instructions") > 1e7, "the second thread compiled");
    }

    [Fact]
    public void Containers_run_on_every_core_of_the_host()
    {
        var four = new WorkloadScenario { Workload = "lat-fork", Profile = "nehalem-x5570", Preset = "oslevel", Size = 200, Guests = 4, HostCores = 4, ContainerCpus = 1 };
        WorkloadRunResult r = four.RunOnce(1);
        Assert.Equal(4, r.Guests.Count);
        Assert.All(r.Guests, g => Assert.True(g.Finished));
        for (int cpu = 0; cpu < 4; cpu++)
        {
            Assert.True(r.Run.Value($"host.cpu{cpu}", "cycles::User") > 0, $"CPU {cpu} ran a container's processes");
        }
    }

    /// <summary>
    /// An SMP kernel's run counts every CPU's cycles up to the end of its work, the halted CPUs'
    /// as idle up to the last CPU's own time: a short run of one process on four CPUs accounts four
    /// CPUs' worth, though the three others never ran anything.
    /// </summary>
    [Fact]
    public void A_run_on_four_CPUs_accounts_four_CPUs_worth_of_cycles()
    {
        WorkloadRunResult four = new WorkloadScenario { Workload = "lat-null", Profile = "nehalem-x5570", Size = 2_000, HostCores = 4 }.RunOnce(1);
        Assert.InRange(four.Outcome.CoreCycles / (four.Outcome.SimulatedSeconds * 2.93e9), 3.99, 4.01);
        Assert.Equal(four.Outcome.CoreCycles, (ulong)four.CyclesByCategory.Values.Sum());
    }

    /// <summary>
    /// lat_ctx on a host of several CPUs runs pinned to the first (as under taskset -c 0), so its
    /// two processes still switch on one CPU: about the one-CPU figure, plus the SMP build's run
    /// queue lock, not the near-nothing of two processes each alone on a CPU.
    /// </summary>
    [Fact]
    public void Lat_ctx_on_several_CPUs_still_measures_a_switch()
    {
        var s = new WorkloadScenario { Workload = "lat-ctx-0k", Profile = "nehalem-x5570", Size = 500 };
        double one = Figure(s.RunOnce(1), "latency"), four = Figure((s with { HostCores = 4 }).RunOnce(1), "latency");
        Assert.InRange(four, one, one * 1.1);
    }

    /// <summary>
    /// A current server's memory: with 320 GiB the kernel's page descriptors alone take 5 GiB, so
    /// the NIC's rings lie above 4 GiB, and the driver must write their bases' upper halves
    /// (RDBAH, TDBAH) as e1000_configure_rx and _tx do; with the low half alone the card wrote
    /// its frames elsewhere and the server never heard a request.
    /// </summary>
    [Fact]
    public void A_web_server_answers_on_a_host_whose_NIC_rings_lie_above_4_GiB()
    {
        WorkloadRunResult r = new WorkloadScenario { Workload = "web", Profile = "skylake-sp", RequestRate = 500, Size = 20, HostMemoryMiB = 327_680, TimeLimitMs = 200 }.RunOnce(1);
        Assert.Null(r.TimeLimit);
        Assert.Equal(0, Figure(r, "requests_lost"));
        Assert.True(Figure(r, "requests") > 0);
    }

    /// <summary>
    /// The report of a run on several CPUs shows each CPU's busy time, so a reader sees the CPU
    /// that takes the NIC's interrupts work hardest; a run of one CPU's report has no such table.
    /// </summary>
    [Fact]
    public void The_report_of_a_run_on_several_CPUs_shows_each_CPU_s_busy_time()
    {
        var s = new WorkloadScenario { Workload = "web", Profile = "nehalem-x5570", Preset = "oslevel", Guests = 8, HostCores = 4, RequestRate = 500, Size = 40 };
        string four = WorkloadRunReport.ToMarkdown([s.RunOnce(1)], "web"), one = WorkloadRunReport.ToMarkdown([(s with { HostCores = 1 }).RunOnce(1)], "web");
        Assert.Contains("| CPU | busy | user | system | idle |", four, StringComparison.Ordinal);
        Assert.Contains("| 3 | ", four, StringComparison.Ordinal);
        Assert.Contains("The busiest network link, `host.link`, carried frames", four, StringComparison.Ordinal); // the containers' one NIC
        Assert.DoesNotContain("| CPU | busy |", one, StringComparison.Ordinal);
    }

    /// <summary>
    /// A web server at 80,000 requests/s on four Nehalem cores: one thread cannot keep up (about
    /// 48,000 a second), so its requests queue in the socket; a pool of four worker threads, which
    /// take the socket's datagrams in turn on all four CPUs, answers each in tens of microseconds.
    /// </summary>
    [Fact]
    public void A_web_server_s_worker_pool_answers_on_every_CPU_what_one_thread_cannot()
    {
        var s = new WorkloadScenario { Workload = "web", Profile = "nehalem-x5570", HostCores = 4, RequestRate = 80_000, Size = 2_000 };
        WorkloadRunResult one = s.RunOnce(1), pool = (s with { Threads = 4 }).RunOnce(1);
        double oneMean = Figure(one, "response_mean"), poolMean = Figure(pool, "response_mean");
        Assert.True(poolMean < oneMean / 10, $"{poolMean:F0} us mean response with four workers against {oneMean:F0} with one");
        Assert.True(poolMean < 200, $"{poolMean:F0} us");
        for (int cpu = 0; cpu < 4; cpu++)
        {
            Assert.True(pool.Run.Value($"host.cpu{cpu}", "cycles::User") > 0, $"CPU {cpu} ran a worker");
        }
        Assert.Equal(0, Figure(pool, "requests_lost"));
        // The workers and the interrupt's CPU share the socket's queue locks and the card's transmit lock, and sometimes wait for them.
        Assert.True(Enumerable.Range(0, 4).Sum(cpu => pool.Run.Value($"host.cpu{cpu}", "lock_contended")) > 0, "no socket or transmit lock was ever contended");
    }

    /// <summary>
    /// STREAM's triad on 1 and 4 cores of one Nehalem socket and on 8 cores of two: the four
    /// share their socket's memory controller, so they gain but not fourfold; the eight gain
    /// nothing more, because the arrays are all in the first socket's memory.
    /// </summary>
    [Fact]
    public void Streaming_threads_share_their_socket_s_memory_bandwidth_and_the_second_socket_brings_its_own()
    {
        // 800,000 elements in all (6.4 MB an array, beyond the 8 MB L3 together), split among the threads.
        var s = new WorkloadScenario { Workload = "stream-threads", Profile = "nehalem-x5570", HostCores = 8 };
        double Bandwidth(int threads) => Figure((s with { Threads = threads, Size = 800_000 / threads }).RunOnce(1), "bandwidth");
        double one = Bandwidth(1), four = Bandwidth(4), eight = Bandwidth(8);
        Assert.True(four > 2 * one && four < 3.9 * one, $"{four:F0} MB/s on four cores against {one:F0} on one");
        Assert.True(eight > 1.6 * four, $"{eight:F0} MB/s on eight cores of two sockets against {four:F0} on four of one: each thread's pages on its own node (first touch)");
    }

    /// <summary>
    /// OLTP's transactions wait on the disk one at a time per client: more clients keep several
    /// requests in the SSD at once, up to its random-write rate (3,300 a second for the X25-E: one
    /// write a transaction), past which more clients add nothing.
    /// </summary>
    [Fact]
    public void Concurrent_OLTP_clients_overlap_their_disk_waits_up_to_the_drive_s_write_rate()
    {
        var s = new WorkloadScenario { Workload = "oltp", Profile = "nehalem-x5570", Size = 200, HostCores = 4 };
        double one = Figure(s.RunOnce(1), "transactions"), four = Figure((s with { Threads = 4 }).RunOnce(1), "transactions");
        Assert.True(four > 1.3 * one, $"{four:F0} transactions/s with four clients against {one:F0} with one");
        Assert.True(four < 3_300, $"{four:F0} transactions/s, more than the drive's 3,300 random writes a second");
    }

    /// <summary>Three web containers on two CPUs send their answers from both through the one NIC: every request is answered once.</summary>
    [Fact]
    public void Web_containers_on_several_cores_answer_every_request_once()
    {
        var s = new WorkloadScenario { Workload = "web", Profile = "nehalem-x5570", Preset = "oslevel", RequestRate = 500, Size = 100, Guests = 3, HostCores = 2 };
        WorkloadRunResult r = s.RunOnce(1);
        Assert.All(r.Guests, g =>
        {
            Assert.True(g.Finished);
            Assert.Equal(0, g.FiguresOfMerit.Single(m => m.Name == "requests_lost").Value);
            Assert.False(double.IsNaN(g.FiguresOfMerit.Single(m => m.Name == "response_p99").Value));
        });
    }

    /// <summary>
    /// Thirty-two web containers on eight CPUs for 30 ms: NIC interrupts on CPU 0 wake servers onto
    /// CPU 0's run queue all the time, and CPU 0 often holds that queue's lock, switching. It holds
    /// it with interrupts off, as schedule() does; if an interrupt came in under it, its handler
    /// would spin on the lock for ever and every CPU would end up spinning behind it.
    /// </summary>
    [Fact]
    public void A_run_queue_lock_is_held_with_interrupts_off()
    {
        var s = new WorkloadScenario { Workload = "web", Profile = "nehalem-x5570", Preset = "oslevel", RequestRate = 500, Size = 200, Guests = 32, HostCores = 8, TimeLimitMs = 30 };
        WorkloadRunResult r = s.RunOnce(42);
        double elapsed = r.Run.SimulatedTime.TotalSeconds * 2.93e9;
        for (int cpu = 0; cpu < 8; cpu++)
        {
            Assert.True(r.Run.Value($"host.cpu{cpu}", "cycles::Kernel") < 0.8 * elapsed, $"CPU {cpu} spent {r.Run.Value($"host.cpu{cpu}", "cycles::Kernel") / elapsed:P0} of the run in the kernel");
        }
    }
}
