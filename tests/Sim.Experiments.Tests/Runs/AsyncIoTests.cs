using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>fio's libaio engine on the kernel's native asynchronous I/O, and the virtio transports' interrupts.</summary>
public class AsyncIoTests
{
    private static WorkloadRunResult Fio(string engine, int jobs, int ioDepth, int reads, string preset = "native", string transport = "pci") => new WorkloadScenario
    {
        Workload = "fio-randread", Profile = "nehalem-x5570", Disk = "nvme", Size = reads, HostCores = 1, Preset = preset,
        Io = preset == "native" ? null : "paravirtual", VirtioTransport = transport, IoEngine = engine, Jobs = jobs, IoDepth = ioDepth,
    }.RunOnce(1);

    private static double Figure(WorkloadRunResult r, string name) => r.FiguresOfMerit.Single(m => m.Name == name).Value;

    [Fact]
    public void One_libaio_job_keeps_its_queue_full_without_a_switch_a_read()
    {
        WorkloadRunResult aio = Fio("libaio", jobs: 1, ioDepth: 32, reads: 1_000);
        WorkloadRunResult sync = Fio("psync", jobs: 32, ioDepth: 1, reads: 1_000);
        Assert.Equal(1_000, aio.Stat("host.kernel", "block_latency::count")); // every read's latency, to the io_getevents that read it
        Assert.Equal(1_000, aio.Stat("host.disk0", "commands"));
        // io_setup, a io_submit a read, an io_getevents a batch, exit: fewer calls than two a read, more than one.
        double calls = aio.Stat("host.kernel", "syscalls");
        Assert.InRange(calls, 1_000 + 2, 2 * 1_000);
        // psync's 32 jobs sleep in every read and are switched to at its end; the one libaio job sleeps only when no read is done.
        Assert.True(aio.Stat("host.kernel", "context_switches") < sync.Stat("host.kernel", "context_switches") / 2);
        Assert.True(aio.Outcome.CoreCycles < sync.Outcome.CoreCycles * 0.85 || Figure(aio, "iops") > Figure(sync, "iops"));
        // Little's law: 32 reads in flight, none returned before the medium's 116.3 us.
        Assert.InRange(Figure(aio, "mean_latency"), 116.3, 32 / Figure(aio, "iops") * 1e6 * 1.0001);
        Assert.InRange(aio.Stat("host.kernel", "block_latency::min") / 1e3, 116.3, 200);
        Assert.Equal(aio.Outcome.CoreCycles, (ulong)aio.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void A_libaio_run_reruns_to_the_same_figures()
    {
        WorkloadRunResult a = Fio("libaio", jobs: 2, ioDepth: 8, reads: 300);
        WorkloadRunResult b = Fio("libaio", jobs: 2, ioDepth: 8, reads: 300);
        Assert.Equal(a.Outcome.CoreCycles, b.Outcome.CoreCycles);
        Assert.Equal(Figure(a, "iops"), Figure(b, "iops"));
        Assert.Equal(300, a.Stat("host.kernel", "block_latency::count"));
    }

    [Fact]
    public void Under_MSI_X_a_virtio_interrupt_reads_and_acknowledges_nothing()
    {
        // At depth 1 each read is one kick and one interrupt: virtio-mmio's handler adds its InterruptStatus read and
        // InterruptACK write, two trips to the user-space device model; virtio-pci's MSI-X message needs neither.
        WorkloadRunResult pci = Fio("psync", jobs: 1, ioDepth: 1, reads: 100, preset: "type1", transport: "pci");
        WorkloadRunResult mmio = Fio("psync", jobs: 1, ioDepth: 1, reads: 100, preset: "type1", transport: "mmio");
        Assert.Equal(0, pci.Stat("host.hypervisor", "user_exits"));
        Assert.InRange(mmio.Stat("host.hypervisor", "user_exits"), 2 * 100, (2 * 100) + 4);
        Assert.Equal(pci.Stat("host.hypervisor", "host_io_syscalls"), mmio.Stat("host.hypervisor", "host_io_syscalls")); // the same real I/O
        Assert.True(Figure(pci, "iops") > Figure(mmio, "iops"));
        Assert.InRange(pci.Stat("vm0.disk0", "interrupts"), 100, 100 + 4); // a message a completion
    }

    [Theory]
    [InlineData("ioengine", "posixaio", "there is no fio engine 'posixaio' here; the engines are: psync, libaio")]
    [InlineData("iodepth", "8", "iodepth 8 needs ioengine: libaio")]
    [InlineData("iodepth", "0", "iodepth must be 1 to 1024")]
    [InlineData("virtio_transport", "ccw", "there is no virtio transport 'ccw'; the transports are: pci, mmio")]
    public void Bad_values_are_refused_with_what_is_allowed(string key, string value, string message)
    {
        WorkloadScenario s = key switch
        {
            "ioengine" => new WorkloadScenario { Workload = "fio-randread", IoEngine = value },
            "iodepth" => new WorkloadScenario { Workload = "fio-randread", IoDepth = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            _ => new WorkloadScenario { Workload = "fio-randread", VirtioTransport = value },
        };
        Assert.Contains(message, s.Problem(key), StringComparison.Ordinal);
    }

    [Fact]
    public void Libaio_is_fio_randreads_engine_and_a_transport_needs_virtio_devices()
    {
        Assert.Contains("ioengine is fio-randread's engine, not lat-null's", new WorkloadScenario { Workload = "lat-null", IoEngine = "libaio" }.Problem("ioengine"), StringComparison.Ordinal);
        Assert.Contains("virtio_transport decides how the virtio devices interrupt", new WorkloadScenario { Workload = "fio-randread", Preset = "type1", VirtioTransport = "mmio" }.FirstProblem(), StringComparison.Ordinal);
    }
}
