using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Tests.Runs;

/// <summary>The NVMe controller and its driver: queue pairs per CPU in memory, a doorbell write per command and per interrupt.</summary>
public class NvmeTests
{
    private static WorkloadScenario Fio(string diskInterface, int jobs = 1, string engine = "psync", int ioDepth = 1, int cores = 1, long reads = 1_000) => new()
    {
        Workload = "fio-randread", Profile = "nehalem-x5570", Disk = "nvme", DiskInterface = diskInterface, Size = reads, HostCores = cores,
        IoEngine = engine, Jobs = jobs, IoDepth = ioDepth,
    };

    private static double Iops(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "iops").Value;

    [Fact]
    public void A_read_takes_one_doorbell_write_and_an_interrupt_one_more_with_no_register_read()
    {
        WorkloadRunResult r = Fio("nvme", reads: 100).RunOnce(1);
        Assert.Equal(100, r.Stat("host.disk0", "commands"));
        Assert.Equal(100 * 8, r.Stat("host.disk0", "sectors_read"));
        Assert.Equal(100, r.Stat("host.disk0", "interrupts")); // a message a completion: no coalescing
        Assert.Equal(2 * 100, r.Stat("host.bus.host.disk0", "accesses")); // the submission tail, the completion head; the boot's are not the core's
        Assert.Equal(100, r.Stat("host.kernel", "block_latency::count"));
        // The medium's 115 us and 1.3 us of transfer, and less of the kernel's than AHCI's five accesses an interrupt cost.
        WorkloadRunResult ahci = Fio("ahci", reads: 100).RunOnce(1);
        Assert.InRange(r.FiguresOfMerit.Single(m => m.Name == "mean_latency").Value, 116.3, ahci.FiguresOfMerit.Single(m => m.Name == "mean_latency").Value);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void A_queue_deeper_than_AHCIs_32_commands_reaches_the_medium()
    {
        WorkloadRunResult nvme = Fio("nvme", engine: "libaio", ioDepth: 128, reads: 2_000).RunOnce(1);
        WorkloadRunResult ahci = Fio("ahci", engine: "libaio", ioDepth: 128, reads: 2_000).RunOnce(1);
        Assert.True(nvme.Stat("host.disk0.medium", "depth_max") > 32);
        Assert.True(ahci.Stat("host.disk0.medium", "depth_max") <= 32); // AHCI's 32 slots; the rest wait in the kernel
        Assert.True(Iops(nvme) > 1.5 * Iops(ahci));
        Assert.Equal(2_000, nvme.Stat("host.kernel", "block_latency::count"));
    }

    [Fact]
    public void Each_CPU_submits_to_its_own_queue_and_every_read_completes_once()
    {
        // 64 jobs over four CPUs: each CPU's reads go to its queue pair and come back by its message to that CPU.
        WorkloadRunResult r = (Fio("nvme", jobs: 64, cores: 4, reads: 2_000) with { TimeLimitMs = 100 }).RunOnce(1);
        Assert.Equal(2_000, r.Stat("host.disk0", "commands"));
        Assert.Equal(2_000, r.Stat("host.kernel", "block_latency::count"));
        Assert.True(r.Stat("host.disk0", "interrupts") >= 2_000);
        Assert.All(Enumerable.Range(0, 4), cpu => Assert.True(r.HostCpuUtilization[cpu] > 0.05, $"CPU {cpu} took part"));
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void An_assigned_controller_takes_its_doorbells_without_an_exit_and_its_DMA_through_the_IOMMU()
    {
        WorkloadRunResult r = (Fio("nvme", reads: 200) with { Preset = "type1", Io = "passthrough" }).RunOnce(1);
        Assert.Equal(200, r.Stat("vm0.disk0", "commands"));
        Assert.True(r.Stat("vm0.iommu", "iotlb_misses") > 0);
        Assert.Equal(0, r.Exits.Where(e => e.Reason == ExitReason.EptViolation).Sum(e => e.Count)); // its registers are mapped to the guest
        Assert.Contains("QEMU's emulated NVMe is not modelled", (Fio("nvme") with { Preset = "type1", Io = "emulated" }).FirstProblem(), StringComparison.Ordinal);
        Assert.Null((Fio("nvme") with { Preset = "type1", Io = "paravirtual" }).FirstProblem());
    }
}
