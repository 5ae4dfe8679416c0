using Sim.Experiments.Runs;
using Sim.Models.Kernel;
using Sim.Models.Platform;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Several virtual machines on one host: placed on its cores, time-shared by the hypervisor's scheduler, each with its own copy of the workload.</summary>
public class ConsolidationTests
{
    private static readonly HardwareProfile Nehalem = HardwareProfiles.NehalemX5570;
    private static readonly VirtualizationAxes Type1 = VirtualizationAxes.ForPreset("type1", Nehalem);

    /// <summary>getpid calls: CPU-bound, about 0.06 us each on Nehalem, so 600,000 take some 35 ms, longer than a 30 ms slice.</summary>
    private static readonly IWorkload CpuBound = WorkloadCatalog.Get("lat-null").Workload;

    private static WorkloadRunResult Run(IWorkload workload, long size, int guests, int hostCores = 1, HardwareProfile? profile = null, VirtualizationAxes? axes = null) =>
        WorkloadRun.Run(profile ?? Nehalem, workload, size, seed: 1, axes: axes ?? Type1, consolidation: new Consolidation(guests, hostCores));

    private static double Share(GuestResult g, CycleCategory c) => (double)g.CyclesByCategory[c] / g.Outcome.CoreCycles;

    [Fact]
    public void Two_cpu_bound_guests_on_one_core_take_turns_and_each_takes_twice_as_long()
    {
        WorkloadRunResult alone = Run(CpuBound, 600_000, guests: 1);
        WorkloadRunResult shared = Run(CpuBound, 600_000, guests: 2);
        Assert.Empty(alone.Guests);
        Assert.Equal(["vm0", "vm1"], shared.Guests.Select(g => g.Name));
        foreach (GuestResult g in shared.Guests)
        {
            double ratio = g.Outcome.SimulatedSeconds / alone.Outcome.SimulatedSeconds;
            Assert.InRange(ratio, 1.75, 2.05); // the first to finish had the core alone for its last slice
            Assert.InRange(Share(g, CycleCategory.Descheduled), 0.40, 0.52);
        }
        Assert.True(shared.Stat("host.hypervisor", "vcpu_preemptions") >= 2, "30 ms slices of a 70 ms run preempt");
        Assert.Equal(0, alone.Stat("host.hypervisor", "vcpu_switches"));
    }

    [Fact]
    public void Weights_of_two_to_one_give_two_thirds_of_the_core_to_the_heavier_guest_once_the_credits_settle()
    {
        // Two CPU-bound guests that outlast the runs, weights 512 and 256 on one core. The credits
        // start even and settle within about half a second (docs/virtualization.md); from 540 ms the
        // core's time goes about 2:1. Credit is earned per 30 ms period and a switch waits for a
        // 10 ms tick, so the heavier guest runs 56 to 64 ms at a stretch and the lighter 28, and the
        // split comes out 1.81 (29:16) since the Nehalem's exits were made cheaper on 2026-12-07
        // (2.00 before): a 10% band, not 5%; docs/virtualization.md reports it.
        var consolidation = new Consolidation(2, 1) { VcpuWeights = [512, 256] };
        double[] Running(ulong milliseconds) => [.. WorkloadRun.Run(Nehalem, CpuBound, 40_000_000, seed: 1, axes: Type1, consolidation: consolidation,
            timeLimit: Sim.Engine.Time.Tick.FromMilliseconds(milliseconds)).Guests.Select(g => (double)(g.Outcome.CoreCycles - (ulong)g.CyclesByCategory[CycleCategory.Descheduled]))];
        double[] early = Running(540), late = Running(720);
        double share = (late[0] - early[0]) / (late[1] - early[1]);
        Assert.InRange(share, 2.0 * 0.9, 2.0 * 1.1);
        Assert.InRange(early[0] / early[1], 1.2, 1.9); // from even credits the heavier guest's lead builds up
    }

    [Fact]
    public void Weights_of_two_to_one_give_two_to_one_CPU_time_to_virtual_machines_of_two_virtual_CPUs()
    {
        // Two VMs of two virtual CPUs on two cores, each running threads that compute (and shoot
        // down their TLBs) for longer than the runs, weights 512 and 256, free to migrate: the
        // host's credit goes 2:1, and between 540 and 720 ms so does the VMs' running time.
        var s = new Sim.Experiments.Scenarios.WorkloadScenario
        {
            Workload = "tlb-shootdown", Profile = "nehalem-x5570", Preset = "type1", Vcpus = "2", Threads = 2, Size = 100_000_000, Guests = 2, HostCores = 2, VcpuWeights = "512,256",
        };
        double[] Running(int milliseconds)
        {
            WorkloadRunResult r = (s with { TimeLimitMs = milliseconds }).RunOnce(1);
            double RunningOf(IEnumerable<string> cpus) => cpus.Sum(c => r.Stat(c, "cycles::total") - r.Stat(c, "cycles::" + CycleCategory.Descheduled));
            return [RunningOf(r.FirstGuestCpus), RunningOf(["vm1.vcpu0", "vm1.vcpu1"])];
        }
        double[] early = Running(540), late = Running(720);
        Assert.InRange((late[0] - early[0]) / (late[1] - early[1]), 2.0 * 0.95, 2.0 * 1.05);
    }

    [Fact]
    public void A_cap_holds_a_guest_to_its_share_even_of_an_idle_core_and_its_wait_is_steal_time()
    {
        // CPU-bound guests that outlast the runs, over eight accounting periods (240 ms). Alone and
        // capped at 50%, a guest runs while its capped credit lasts and is then parked, the core
        // idle, until the accounting brings its credit back to zero: half the time, and the other
        // half is steal time, not idle time. Capped at 25% beside an uncapped guest, it gets at most
        // about a quarter and the other guest the rest.
        static WorkloadRunResult Capped(Consolidation consolidation) => WorkloadRun.Run(Nehalem, CpuBound, 40_000_000, seed: 1, axes: Type1,
            consolidation: consolidation, timeLimit: Sim.Engine.Time.Tick.FromMilliseconds(240));
        WorkloadRunResult alone = Capped(new Consolidation(1, 1) { VcpuCaps = [50] });
        double Part(WorkloadRunResult r, CycleCategory c) => (double)r.CyclesByCategory[c] / r.Outcome.CoreCycles;
        Assert.InRange(Part(alone, CycleCategory.Descheduled), 0.45, 0.55);
        Assert.True(Part(alone, CycleCategory.Idle) < 0.01, $"idle {Part(alone, CycleCategory.Idle):P1}: a parked guest's wait is steal time");

        WorkloadRunResult shared = Capped(new Consolidation(2, 1) { VcpuCaps = [25, 0] });
        double[] running = [.. shared.Guests.Select(g => (double)(g.Outcome.CoreCycles - (ulong)g.CyclesByCategory[CycleCategory.Descheduled]) / g.Outcome.CoreCycles)];
        Assert.InRange(running[0], 0.15, 0.30);
        Assert.InRange(running[1], 0.70, 0.85);
    }

    [Fact]
    public void A_cap_is_the_whole_virtual_machine_s_split_among_its_virtual_CPUs()
    {
        // Two computing threads in a VM of two virtual CPUs on two otherwise idle cores, capped at
        // 50% of one CPU: each virtual CPU may use a quarter, so the VM uses half a CPU in all.
        WorkloadRunResult r = new Sim.Experiments.Scenarios.WorkloadScenario
        {
            Workload = "tlb-shootdown", Profile = "nehalem-x5570", Preset = "type1", Vcpus = "2", Threads = 2, Size = 1_000_000, VcpuCaps = "50", TimeLimitMs = 240,
        }.RunOnce(1);
        double running = r.FirstGuestCpus.Sum(c => 1 - (r.Stat(c, "cycles::" + CycleCategory.Descheduled) / r.Stat(c, "cycles::total")));
        Assert.InRange(running, 0.45, 0.55);
    }

    [Fact]
    public void Guests_pinned_to_one_cpu_share_it_and_leave_the_others_idle()
    {
        WorkloadRunResult pinned = WorkloadRun.Run(Nehalem, CpuBound, 100_000, seed: 1, axes: Type1,
            consolidation: new Consolidation(2, 2) { VcpuPinning = [1, 1] });
        WorkloadRunResult alone = Run(CpuBound, 100_000, guests: 1);
        Assert.Equal(["host.cpu1", "vm1.vcpu0"], pinned.Guests.Select(g => g.CorePath));
        Assert.InRange(pinned.Guests[1].Outcome.SimulatedSeconds / alone.Outcome.SimulatedSeconds, 1.9, 2.1); // shorter than a slice: the second waits for the first
        Assert.True(pinned.Stat("host.cpu1", "cycles::" + CycleCategory.Kernel) > 0, "the guests' getpid calls run on CPU 1");
        Assert.Equal(0, pinned.Stat("host.cpu0", "cycles::" + CycleCategory.Kernel)); // and none on CPU 0
    }

    [Fact]
    public void A_core_another_guest_left_idle_steals_a_waiting_virtual_CPU_which_migrates_and_pays_for_it_there()
    {
        // Three CPU-bound guests on two cores: vm0 and vm2 on CPU 0, vm1 (a sixth of their run) on CPU 1.
        // Once vm1 is done, CPU 1 steals whichever of the others waits on CPU 0's queue, and the
        // two finish about as soon as one alone; pinned where they were placed, they share CPU 0.
        var s = new Sim.Experiments.Scenarios.WorkloadScenario
        {
            Workload = "lat-null", Profile = "nehalem-x5570", Preset = "type1", Size = 600_000, Guests = 3, HostCores = 2, GuestWorkloads = "lat-null:100000,lat-null:600000",
        };
        WorkloadRunResult balanced = s.RunOnce(1), pinned = (s with { VcpuPinning = "0,1,0" }).RunOnce(1);
        WorkloadRunResult alone = Run(CpuBound, 600_000, guests: 1);
        Assert.Equal(1, balanced.Stat("host.hypervisor", "vcpu_migrations"));
        Assert.Equal(1, balanced.Guests.Sum(g => balanced.Stat(g.CorePath, "vcpu_migrations")));
        Assert.Equal(0, pinned.Stat("host.hypervisor", "vcpu_migrations"));
        // Host CPU 1 idles once vm1 is done unless it takes work over: pinned, busy for vm1's sixth
        // of one guest's run in a run twice as long (a twelfth), balanced nearly all of it.
        Assert.InRange(pinned.HostCpuUtilization[1], 0.05, 0.15);
        Assert.True(balanced.HostCpuUtilization[1] > 0.95, $"cpu1 busy {balanced.HostCpuUtilization[1]:P1}");
        Assert.True(pinned.HostCpuUtilization[0] > 0.95, "pinned, CPU 0 runs both long guests to the end");
        foreach (int g in (int[])[0, 2])
        {
            Assert.InRange(balanced.Guests[g].Outcome.SimulatedSeconds / alone.Outcome.SimulatedSeconds, 1.0, 1.35);
            Assert.InRange(pinned.Guests[g].Outcome.SimulatedSeconds / alone.Outcome.SimulatedSeconds, 1.75, 2.1);
        }
        // Where it lands, the migrated virtual CPU's VPID is flushed (vpid_sync_vcpu_all) and its
        // translations walked again: CPU 1's TLBs miss more than they would for vm1 alone.
        GuestResult moved = balanced.Guests.Single(g => balanced.Stat(g.CorePath, "vcpu_migrations") == 1);
        Assert.True(balanced.Stat("host.cpu1.tlb", "walks") > pinned.Stat("host.cpu1.tlb", "walks"), $"{moved.Name} walked its page tables again on CPU 1");
        Assert.Equal(balanced.Run.Samples, s.RunOnce(1).Run.Samples); // byte-identical on a rerun
    }

    [Fact]
    public void Three_busy_guests_on_two_cores_each_get_about_two_thirds_of_a_core_as_host_wide_credit_moves_them_around()
    {
        // CPU-bound guests that outlast the run. Credit is the host's, shared out by weight: each
        // earns two thirds of a core a period. The one alone on its core overspends, goes OVER,
        // and at its slice's end that core steals a waiting UNDER one from the other core. Over
        // 480 ms (16 periods) each guest runs about two thirds of the time, give or take a slice
        // or two (measured 73%, 66%, 60%; over 960 ms 66%, 69%, 65%); were credit shared per core,
        // the lone one would run all of it and the other two half.
        WorkloadRunResult r = new Sim.Experiments.Scenarios.WorkloadScenario
        {
            Workload = "lat-null", Profile = "nehalem-x5570", Preset = "type1", Size = 100_000_000, Guests = 3, HostCores = 2, TimeLimitMs = 480,
        }.RunOnce(1);
        foreach (GuestResult g in r.Guests)
        {
            Assert.InRange(1 - Share(g, CycleCategory.Descheduled), 2.0 / 3 * 0.85, 2.0 / 3 * 1.15);
        }
        Assert.True(r.Stat("host.hypervisor", "vcpu_migrations") >= 5, $"{r.Stat("host.hypervisor", "vcpu_migrations")} migrations");
    }

    [Fact]
    public void Guests_on_cores_of_their_own_run_as_fast_as_one_alone()
    {
        WorkloadRunResult alone = Run(CpuBound, 100_000, guests: 1);
        WorkloadRunResult spread = Run(CpuBound, 100_000, guests: 2, hostCores: 2);
        foreach (GuestResult g in spread.Guests)
        {
            Assert.Equal(alone.Outcome.SimulatedSeconds, g.Outcome.SimulatedSeconds, 3);
            Assert.Equal(0, g.CyclesByCategory[CycleCategory.Descheduled]);
        }
        Assert.Equal("host.cpu1", spread.Guests[1].CorePath);
    }

    [Fact]
    public void Io_bound_guests_share_a_core_almost_for_free_a_blocked_one_gives_it_up_at_once()
    {
        IWorkload fio = new FioRandRead();
        WorkloadRunResult alone = Run(fio, 100, guests: 1);
        WorkloadRunResult shared = Run(fio, 100, guests: 2);
        double iops = alone.FiguresOfMerit[0].Value;
        foreach (GuestResult g in shared.Guests)
        {
            Assert.InRange(g.FiguresOfMerit[0].Value / iops, 0.85, 1.0);
            Assert.True(Share(g, CycleCategory.Idle) > 0.5, "a blocked guest's wait is idle time, not steal time");
            Assert.InRange(Share(g, CycleCategory.Descheduled), 0.0, 0.15); // the other's reads' trips to QEMU (seven each) are what it waits behind
        }
        Assert.True(shared.Stat("host.hypervisor", "vcpu_switches") >= 100);
    }

    [Theory]
    [InlineData("nehalem-x5570", "type1")]   // EPT and VPIDs
    [InlineData("p4-672", "type1")]          // shadow paging, no VPIDs: every switch flushes
    [InlineData("core2-merom", "type2")]     // hosted
    public void Every_context_accounts_for_every_cycle_and_reruns_are_identical(string profileName, string preset)
    {
        HardwareProfile profile = HardwareProfiles.Get(profileName);
        VirtualizationAxes axes = VirtualizationAxes.ForPreset(preset, profile);
        IWorkload fork = WorkloadCatalog.Get("lat-fork").Workload;
        WorkloadRunResult a = Run(fork, 60, guests: 3, profile: profile, axes: axes);
        WorkloadRunResult b = Run(fork, 60, guests: 3, profile: profile, axes: axes);
        Assert.Equal(a.Run.Samples, b.Run.Samples);
        foreach (GuestResult g in a.Guests)
        {
            Assert.Equal((long)g.Outcome.CoreCycles, g.CyclesByCategory.Values.Sum());
        }
        Assert.Contains(a.Guests, g => g.CyclesByCategory[CycleCategory.Descheduled] > 0); // the later ones wait for the first
        // Each context's accounts, to the end of the run, sum to the run's time on its clock.
        foreach (string core in new[] { "host.cpu0", "vm1.vcpu0", "vm2.vcpu0" })
        {
            double total = Enum.GetValues<CycleCategory>().Sum(c => a.Stat(core, "cycles::" + c));
            Assert.Equal(a.Run.SimulatedTime.TotalSeconds * profile.FrequencyHz, total, 1e-3 * total);
        }
    }

    [Fact]
    public void Containers_of_one_kernel_each_have_their_own_workload_memory_and_end()
    {
        VirtualizationAxes osLevel = VirtualizationAxes.ForPreset("oslevel", Nehalem);
        IWorkload fork = WorkloadCatalog.Get("lat-fork").Workload;
        WorkloadRunResult alone = Run(fork, 300, guests: 1, axes: osLevel);
        WorkloadRunResult three = Run(fork, 300, guests: 3, axes: osLevel);
        Assert.Equal(["ct0", "ct1", "ct2"], three.Guests.Select(g => g.Name));
        Assert.All(three.Guests, g => Assert.True(g.IsContainer));
        Assert.Equal(3 * alone.Stat("host.kernel", "forks"), three.Stat("host.kernel", "forks"));
        // Shorter than a 100 ms time slice, each container's workload runs in turn: the k-th ends after k of them.
        for (int k = 0; k < 3; k++)
        {
            Assert.InRange(three.Guests[k].Outcome.SimulatedSeconds / alone.Outcome.SimulatedSeconds, k + 0.9, k + 1.1);
        }
        Assert.Equal(0, three.Stat("host.kernel.container", "oom_kills"));
    }

    [Fact]
    public void A_container_at_its_memory_limit_is_the_only_one_to_lose_a_process()
    {
        var rig = new KernelRig(Nehalem);
        Container tight = rig.Linux.AddContainer(new ContainerConfiguration(MemoryLimitBytes: 64 * 4096));
        Container roomy = rig.Linux.AddContainer(ContainerConfiguration.Default);
        var workload = (IProcessWorkload)WorkloadCatalog.Get("lat-pagefault").Workload; // a fresh page per iteration
        rig.Start(workload, 200, tight, "ct0.");
        rig.Start(workload, 200, roomy, "ct1.");
        Assert.Equal(1, rig.RunAndCount("oom_kills"));
        Assert.True(tight.ChargedBytes <= 64 * 4096);
        Assert.True(roomy.Ended is not null && tight.Ended is not null);
        Assert.Equal(0, roomy.LiveProcesses);
    }

    [Fact]
    public void Guests_with_different_workloads_each_report_their_own_and_a_waking_IO_guest_is_boosted()
    {
        IWorkload fio = new FioRandRead();
        WorkloadRunResult alone = Run(fio, 100, guests: 1);
        WorkloadRunResult mixed = WorkloadRun.Run(Nehalem, fio, 100, seed: 1, axes: Type1,
            consolidation: new Consolidation(2, Others: [new GuestWorkload(CpuBound, 600_000)]));
        Assert.Equal(["fio-randread", "lat-null"], mixed.Guests.Select(g => g.Workload));
        Assert.Equal("iops", mixed.Guests[0].FiguresOfMerit[0].Name);
        Assert.Equal("latency", mixed.Guests[1].FiguresOfMerit[0].Name);
        // Beside a CPU-bound guest, the I/O-bound one keeps most of its rate: it preempts the other when its disk answers.
        Assert.InRange(mixed.Guests[0].FiguresOfMerit[0].Value / alone.FiguresOfMerit[0].Value, 0.9, 1.0);
        Assert.Contains("2 guests need 1 other workloads, not 2",
            WorkloadRun.Problem(Nehalem, fio, Type1, new Consolidation(2, Others: [new GuestWorkload(CpuBound, 10), new GuestWorkload(CpuBound, 10)])), StringComparison.Ordinal);
    }

    [Fact]
    public void A_scenario_file_lists_the_other_guests_workloads()
    {
        var s = Sim.Experiments.Scenarios.ScenarioFile.Parse("workload: fio-randread\npreset: type1\nprofile: nehalem-x5570\nguest_workloads: [lat-null:1000, stream]\n", "mixed.yaml");
        Consolidation c = s.ResolveConsolidation();
        Assert.Equal(3, c.Guests);
        Assert.Equal(("lat-null", 1000L), (c.Others![0].Workload.Name, c.Others[0].Size));
        Assert.Equal("stream", c.Others[1].Workload.Name);
        var e = Assert.Throws<Sim.Experiments.Scenarios.ScenarioException>(() =>
            Sim.Experiments.Scenarios.ScenarioFile.Parse("workload: fio-randread\npreset: type1\nprofile: nehalem-x5570\nguests: 4\nguest_workloads: [lat-null]\n", "bad.yaml"));
        Assert.Contains("guests is 4 but guest_workloads gives 2 guests", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_guests_are_refused_where_the_model_has_one_clearly()
    {
        var bt = new VirtualizationAxes(CpuVirtualization.BinaryTranslation, MmuVirtualization.Shadow, IoVirtualization.Emulated, Hosting.BareMetal);
        Assert.Contains("VT-x hypervisors and containers only", WorkloadRun.Problem(HardwareProfiles.Pentium4672, CpuBound, bt, new Consolidation(2)), StringComparison.Ordinal);
        VirtualizationAxes osLevel = VirtualizationAxes.ForPreset("oslevel", Nehalem);
        Assert.Null(WorkloadRun.Problem(Nehalem, CpuBound, osLevel, new Consolidation(2, 2))); // containers on every core of one SMP kernel
        Assert.Contains("minimal test kernel, which uses one CPU", WorkloadRun.Problem(Nehalem, new Sim.Workloads.Synthetic.Compute(), VirtualizationAxes.Native, new Consolidation(1, 2)), StringComparison.Ordinal);
        Assert.Null(WorkloadRun.Problem(Nehalem, CpuBound, osLevel, new Consolidation(8)));
        Assert.Contains("guests must be 1 to", WorkloadRun.Problem(Nehalem, CpuBound, Type1, new Consolidation(0)), StringComparison.Ordinal);
        Assert.Contains("host cores must be", WorkloadRun.Problem(Nehalem, CpuBound, Type1, new Consolidation(1, 0)), StringComparison.Ordinal);
        Assert.Null(WorkloadRun.Problem(Nehalem, CpuBound, Type1, new Consolidation(4, 2)));
    }

    [Fact]
    public void The_most_guests_fit_the_host_memory_sized_for_them_with_their_EPT_tables()
    {
        // Sized as guests x 512 MiB + the hypervisor's 256 MiB, 249 to 254 VMs ran out of host
        // memory: each VM's EPT tables (about 1 MiB) are real frames of the host's too.
        var s = new Sim.Experiments.Scenarios.WorkloadScenario { Workload = "syscall", Size = 5, Profile = "nehalem-x5570", Preset = "type1", Guests = Consolidation.MaxGuests };
        Assert.Null(s.FirstProblem());
        WorkloadRunResult r = s.RunOnce(1);
        Assert.Equal(Consolidation.MaxGuests, r.Guests.Count);
    }
}
