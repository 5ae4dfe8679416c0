using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Platform;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

public class FioRunTests
{
    [Fact]
    public void Random_reads_through_AHCI_see_the_flash_latency_and_take_seven_register_accesses_each()
    {
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new FioRandRead(), 20, seed: 1);
        double latency = r.FiguresOfMerit.Single(m => m.Name == "mean_latency").Value;
        // 75 us of flash latency, 16 us of transfer at 250 MB/s, 1 us of command fetch, then the kernel's share.
        Assert.InRange(latency, 92, 110);
        Assert.Equal(20 * 8, r.Stat("host.disk0", "sectors_read"));
        Assert.Equal(20, r.Stat("host.disk0", "commands"));
        Assert.Equal(20 * (2 + 5), r.Stat("host.bus.host.disk0", "accesses")); // PxSACT and PxCI; IS, PxIS read, PxIS write, PxSACT, IS write (the boot-time set-up is not the core's)
        Assert.True(r.CyclesByCategory[Sim.Models.Cpu.CycleCategory.Idle] > 0);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void A_deep_queue_reaches_the_SSDs_random_read_throughput()
    {
        WorkloadRunResult one = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new FioRandRead(), 200, seed: 1);
        WorkloadRunResult deep = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new FioRandRead(jobs: 32), 2_000, seed: 1);
        double iops = deep.FiguresOfMerit.Single(m => m.Name == "iops").Value;
        Assert.InRange(iops, 0.9 * 35_000, 35_000); // the X25-E data sheet's 35,000 random 4 KiB reads per second
        Assert.True(iops > 3 * one.FiguresOfMerit.Single(m => m.Name == "iops").Value);
        // Two register writes per command and five accesses per interrupt handled; completions 28.6 us apart
        // each get their own interrupt (no coalescing), so there are as many handlers as commands at most.
        long handlerAccesses = (long)deep.Stat("host.bus.host.disk0", "accesses") - (2 * 2_000);
        Assert.Equal(0, handlerAccesses % 5);
        Assert.InRange(handlerAccesses / 5, 1, 2_000);
        Assert.Equal(deep.Outcome.CoreCycles, (ulong)deep.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void On_eight_CPUs_a_deep_queue_on_an_NVMe_medium_completes_each_read_only_when_the_medium_has_delivered_it()
    {
        // Eight CPUs issue and complete at once: a handler reading PxSACT while another CPU is between building an issue
        // and writing its tag must not take the tag's clear bit for a completion (the port's lock and the tags issued only
        // once their write has run).
        WorkloadRunResult r = new Sim.Experiments.Scenarios.WorkloadScenario
        {
            Workload = "fio-randread-qd32", Profile = "nehalem-x5570", Disk = "nvme", Size = 500, HostCores = 8,
            TimeLimitMs = 50, // a read lost for good would otherwise leave its job waiting for ever
        }.RunOnce(1);
        Assert.Equal(500, r.Stat("host.disk0", "commands"));
        Assert.Equal(500 * 8, r.Stat("host.disk0", "sectors_read"));
        Assert.Equal(500, r.Stat("host.kernel", "block_latency::count"));
        // The DC P4500's 115 us random read latency and 1.3 us of transfer at 3.2 GB/s: no read returns sooner.
        Assert.InRange(r.Stat("host.kernel", "block_latency::min") / 1e3, 116.3, 140);
        double iops = r.FiguresOfMerit.Single(m => m.Name == "iops").Value;
        Assert.InRange(iops, 100_000, 32 / 116.3e-6); // Little's law at 32 in flight bounds it; well under the medium's 645,000
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void Random_reads_through_ATA_PIO_are_dominated_by_programmed_IO()
    {
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new FioRandRead(), 20, seed: 1,
            MachineConfiguration.Default with { DiskInterface = DiskInterface.AtaPio });
        double latency = r.FiguresOfMerit.Single(m => m.Name == "mean_latency").Value;
        // 75 us of flash latency and 16 us of transfer, then 8 x 257 port accesses of 120 ns.
        Assert.InRange(latency, 75 + 247, 75 + 247 + 60);
        Assert.Equal(20 * 8, r.Stat("host.disk0", "sectors_read"));
        Assert.Equal(20 * ((8 * 257) + 6), r.Stat("host.disk0", "accesses"));
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void Random_reads_from_a_rotating_disk_pay_seek_and_rotation_and_their_latencies_spread()
    {
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new FioRandRead(), 40, seed: 1,
            MachineConfiguration.Default with { Disk = DiskKind.Rotating });
        Assert.InRange(r.FiguresOfMerit.Single(m => m.Name == "mean_latency").Value, 8_500, 8_500 + 8_400);
        // The kernel's histogram of request latencies: one per read, spread by the rotational delay.
        Assert.Equal(40, r.Stat("host.kernel", "block_latency::count"));
        Assert.True(r.Stat("host.kernel", "block_latency::p90") > r.Stat("host.kernel", "block_latency::p50"));
        Assert.InRange(r.Stat("host.kernel", "block_latency::max") / 1e6, 8.5, 8.5 + 8.4); // ms: seek plus at most a revolution
    }
}

public class IdleRunTests
{
    [Fact]
    public void An_idle_system_takes_250_ticks_a_second_and_is_otherwise_halted()
    {
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new Idle(), 200, seed: 1); // 200 ms
        Assert.InRange(r.Stat("host.cpu0.apic", "timer_interrupts"), 49, 51);
        Assert.InRange(r.FiguresOfMerit.Single(m => m.Name == "busy").Value, 0.0, 1.0);
        Assert.Equal(0.2, r.Outcome.SimulatedSeconds, 2);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }
}

public class NetperfRunTests
{
    [Fact]
    public void Each_transaction_sends_and_receives_a_frame_with_seven_NIC_register_accesses()
    {
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new NetperfRr(), 100, seed: 1);
        Assert.Equal(100, r.Stat("host.nic0", "frames_sent"));
        Assert.Equal(100, r.Stat("host.nic0", "frames_received"));
        Assert.Equal(0, r.Stat("host.nic0", "frames_dropped"));
        // The send's TDT write; the interrupt's ICR read, IMC write and STATUS read, RDT write, IMS write and STATUS read (Linux's e1000 with NAPI).
        Assert.Equal(700, r.Stat("host.bus.host.nic0", "accesses"));
        double rtt = r.FiguresOfMerit.Single(m => m.Name == "round_trip").Value;
        Assert.Equal(100, r.Stat("host.kernel", "round_trip::count")); // one request-response per transaction
        Assert.InRange(r.Stat("host.kernel", "round_trip::mean") / 1000, 6.0, rtt);
        // At least the peer's 5 us turnaround and the two 0.5 us propagation delays.
        Assert.InRange(rtt, 6.0, 20.0);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }
}

public class MacroRunTests
{
    [Fact]
    public void The_web_server_answers_each_request_with_eight_frames()
    {
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new Web(), 50, seed: 1);
        Assert.Equal(51, r.Stat("host.nic0", "frames_received")); // the closed-loop client sends one more request after the 50th answer
        Assert.Equal(400, r.Stat("host.nic0", "frames_sent"));
        Assert.True(r.FiguresOfMerit.Single().Value > 0);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void Oltp_reads_two_blocks_and_writes_one_per_transaction()
    {
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new Oltp(), 10, seed: 1);
        Assert.Equal(10 * 2 * 8, r.Stat("host.disk0", "sectors_read"));
        Assert.Equal(10 * 8, r.Stat("host.disk0", "sectors_written"));
        Assert.Equal(30, r.Stat("host.disk0", "commands"));
    }
}

public class KernelBuildRunTests
{
    [Fact]
    public void Each_unit_forks_execs_reads_its_source_and_writes_its_object()
    {
        WorkloadRunResult r = WorkloadRun.Run(HardwareProfiles.NehalemX5570, new KernelBuild(), 4, seed: 1);
        Assert.Equal(4, r.Stat("host.kernel", "forks"));
        Assert.Equal(5, r.Stat("host.kernel", "exits"));
        Assert.Equal(4 + 4 + 1 + (4 * 12), r.Stat("host.kernel", "syscalls")); // make: fork, wait, exit; each compiler: exec, 2 opens, 4 reads, 2 writes, 2 closes, exit
        Assert.Equal(4 * 256, r.Stat("host.kernel", "file_faults"));           // the compiler's text, faulted in by each process
        Assert.True(r.Stat("host.kernel", "demand_zero_faults") >= 4 * 512);
        Assert.Equal(0, r.Stat("host.disk0", "commands"));                      // a warm build: everything came from the page cache
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void User_time_is_the_compilers_own_work_and_the_rest_of_the_busy_time_is_system_time()
    {
        WorkloadRunResult build = WorkloadRun.Run(HardwareProfiles.Pentium4672, new KernelBuild(), 2, seed: 1);
        double share = build.FiguresOfMerit.Single(m => m.Name == "system_time_share").Value;
        Assert.InRange(share, 0.03, 0.15); // about 7% ([BA03]); the validation suite holds it to that
        Assert.True(build.Outcome.UserModeCycles >= (ulong)build.CyclesByCategory[Sim.Models.Cpu.CycleCategory.User]); // user time includes the user code's own stalls and walks
        Assert.True(build.Outcome.UserModeCycles < build.Outcome.CoreCycles - build.Outcome.IdleCycles);
        // A null system call loop is nearly all system time: the kernel's entry, path and exit.
        WorkloadRunResult getpid = WorkloadRun.Run(HardwareProfiles.Pentium4672, Lmbench.All.Single(l => l.Name == "lat-null"), 200, seed: 1);
        Assert.True(getpid.Outcome.SystemTimeShare > 0.5, $"lat-null system share {getpid.Outcome.SystemTimeShare:0.00}");
    }
}
