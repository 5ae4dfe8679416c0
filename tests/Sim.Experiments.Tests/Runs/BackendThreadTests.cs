using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Cpu;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// Device backends on host CPUs under the KVM-like type 1 hypervisor (docs/virtualization.md,
/// "Backend threads"): virtio's kick exit only signals a thread, which pops the ring and submits
/// each request to the host, and is woken again by each host completion to fill the used ring
/// and interrupt the guest through irqfd; an emulated device's every register access returns to
/// its user-space model, and its completions come through the same thread.
/// </summary>
public class BackendThreadTests
{
    private static readonly WorkloadScenario DeepReads = new()
    {
        Workload = "fio-randread-qd32", Profile = "nehalem-x5570", Preset = "type1", Io = "paravirtual", Disk = "nvme", Size = 300,
    };

    [Fact]
    public void A_user_space_IO_thread_makes_one_host_system_call_per_request_and_its_cycles_are_counted_for_its_guest()
    {
        WorkloadRunResult r = DeepReads.RunOnce(1);
        Assert.Equal(300, r.Stat("vm0.disk0", "requests"));
        Assert.Equal(300, r.Stat("host.hypervisor", "host_io_syscalls")); // preadv or io_submit: one per request, none per register access
        Assert.Equal(300, r.Stat("vm0.iothread", "completions"));
        // The kicks' exits only signal the thread; the device turns kicks off only while it drains the queue (virtio_blk_handle_vq),
        // so with no polling by the thread a request added to a drained queue is a kick: at most one a request.
        Assert.InRange(r.Stat("vm0.disk0", "notifications"), 1, 300);
        double thread = r.Stat("vm0.iothread", "cycles");
        Assert.InRange(r.Stat("vm0.iothread", "wakeups"), 10, 600);
        // The thread's work is device emulation on its host CPU (its instructions; its cache misses and walks have categories of their own).
        Assert.InRange(thread, 300 * 2_000, r.Outcome.CoreCycles);
        Assert.True(r.CyclesByCategory[CycleCategory.DeviceEmulation] > 0.5 * thread);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void A_vhost_worker_submits_from_the_host_kernel_with_no_system_call_and_costs_less_per_request()
    {
        WorkloadRunResult user = DeepReads.RunOnce(1);
        WorkloadRunResult vhost = (DeepReads with { VirtioBackend = "kernel" }).RunOnce(1);
        Assert.Equal(0, vhost.Stat("host.hypervisor", "host_io_syscalls"));
        Assert.Equal(300, vhost.Stat("vm0.vhost", "completions"));
        Assert.Equal(0, vhost.Stat("vm0.iothread", "cycles"));
        double PerRequest(WorkloadRunResult r, string thread) => r.Stat(thread, "cycles") / r.Stat(thread, "completions");
        Assert.True(PerRequest(vhost, "vm0.vhost") < 0.8 * PerRequest(user, "vm0.iothread"),
            $"vhost {PerRequest(vhost, "vm0.vhost"):F0} cycles per request against the I/O thread's {PerRequest(user, "vm0.iothread"):F0}");
    }

    [Fact]
    public void An_IO_thread_pinned_to_a_CPU_no_virtual_CPU_runs_on_takes_its_work_there_and_that_CPU_idles_between()
    {
        WorkloadScenario pinned = DeepReads with { HostCores = 2, IoThreadCpu = "1" };
        WorkloadRunResult r = pinned.RunOnce(1), again = pinned.RunOnce(1);
        Assert.Equal(1, r.Stat("vm0.iothread", "cpu"));
        Assert.Equal(300, r.Stat("vm0.iothread", "completions"));
        Assert.InRange(r.HostCpuUtilization[1], 0.05, 0.95); // the thread's work, and idle in the host's loop between wake-ups
        Assert.True(r.Stat("host.cpu1", "instructions") > 300 * 2_000, "the thread's instructions ran on CPU 1");
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
        Assert.Equal(r.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)), again.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)));
        // On the vCPU's own CPU (the default) the thread takes that CPU from the guest: the pinned one leaves it the whole CPU.
        WorkloadRunResult shared = (DeepReads with { HostCores = 2 }).RunOnce(1);
        Assert.Equal(0, shared.Stat("vm0.iothread", "cpu"));
        Assert.True(r.HostCpuUtilization[0] < shared.HostCpuUtilization[0] || r.FiguresOfMerit[0].Value > shared.FiguresOfMerit[0].Value);
    }

    [Fact]
    public void Each_guest_has_its_own_backend_thread_and_reruns_are_identical()
    {
        WorkloadScenario two = DeepReads with { Guests = 2, Size = 100 };
        WorkloadRunResult a = two.RunOnce(1), b = two.RunOnce(1);
        Assert.Equal(100, a.Stat("vm0.iothread", "completions"));
        Assert.Equal(100, a.Stat("vm1.iothread", "completions"));
        Assert.True(a.Stat("vm1.iothread", "cycles") > 0);
        Assert.Equal(a.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)), b.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)));
    }

    [Fact]
    public void Virtio_net_s_backend_thread_sends_and_receives_with_a_system_call_each_and_vhost_net_with_none_and_sooner()
    {
        var rr = new WorkloadScenario { Workload = "netperf-rr", Profile = "nehalem-x5570", Preset = "type1", Io = "paravirtual", Size = 300 };
        WorkloadRunResult user = rr.RunOnce(1), vhost = (rr with { VirtioBackend = "kernel" }).RunOnce(1);
        // A transaction: the request's frame read from the tap, the answer written to it; two wake-ups (the kick, the frame).
        Assert.Equal(600, user.Stat("host.hypervisor", "host_io_syscalls"));
        Assert.Equal(600, user.Stat("vm0.iothread", "wakeups"));
        Assert.Equal(0, vhost.Stat("host.hypervisor", "host_io_syscalls"));
        Assert.Equal(600, vhost.Stat("vm0.vhost", "wakeups"));
        double RoundTrip(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "round_trip").Value;
        Assert.True(RoundTrip(vhost) < RoundTrip(user), $"vhost-net {RoundTrip(vhost):F2} us against the I/O thread's {RoundTrip(user):F2} us");
    }

    [Fact]
    public void A_hosted_monitor_submits_through_its_trip_to_the_host_and_takes_the_completions_in_its_process_on_the_guests_CPU()
    {
        WorkloadRunResult r = (DeepReads with { Preset = "type2", Size = 100 }).RunOnce(1);
        Assert.Equal(100, r.Stat("vm0.disk0", "requests"));
        Assert.True(r.Stat("host.hypervisor", "host_trips") > 0); // the kicks go through the world switch to the monitor's process
        Assert.Equal(100, r.Stat("vm0.iothread", "completions")); // each read's completion comes back through that process
        Assert.Equal(0, r.Stat("vm0.iothread", "cpu")); // on the virtual CPU's own CPU
    }

    [Fact]
    public void Under_type1_every_access_to_the_emulated_e1000_returns_to_user_space_and_only_a_real_IO_takes_a_host_system_call()
    {
        var rr = new WorkloadScenario { Workload = "netperf-rr", Profile = "nehalem-x5570", Preset = "type1", Io = "emulated", Size = 300 };
        WorkloadRunResult r = rr.RunOnce(1);
        double accesses = r.Stat("host.hypervisor", "device_model_accesses::Nic");
        Assert.Equal(accesses, r.Stat("host.hypervisor", "user_exits")); // no e1000 register is handled in the kernel
        Assert.True(accesses > 4 * 300, $"{accesses} register accesses for 300 transactions");
        // The answer written to the tap from the vCPU thread and the request read from it by the I/O thread; the ICR reads and RDT writes take none.
        Assert.Equal(600, r.Stat("host.hypervisor", "host_io_syscalls"));
        Assert.Equal(300, r.Stat("vm0.iothread", "completions"));
        Assert.Equal(300, r.Stat("host.hypervisor", "device_model_steps::FrameReceive"));
        Assert.True(r.Stat("vm0.iothread", "cycles") > 300 * 2_000);
    }

    [Fact]
    public void Under_type1_virtio_net_s_kick_stays_in_the_kernel_and_its_round_trip_is_shorter_than_the_emulated_e1000_s()
    {
        var rr = new WorkloadScenario { Workload = "netperf-rr", Profile = "nehalem-x5570", Preset = "type1", Io = "paravirtual", Size = 300 };
        WorkloadRunResult virtio = rr.RunOnce(1), e1000 = (rr with { Io = "emulated" }).RunOnce(1);
        // virtio-mmio: each interrupt's status read and acknowledgement go to user space; the notify matches the ioeventfd in KVM.
        Assert.Equal(virtio.Stat("host.hypervisor", "device_model_accesses::VirtioNet") - virtio.Stat("vm0.nic0", "notifications"),
            virtio.Stat("host.hypervisor", "user_exits"));
        Assert.True(virtio.Stat("vm0.nic0", "notifications") > 0);
        double RoundTrip(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "round_trip").Value;
        Assert.True(RoundTrip(virtio) < 0.9 * RoundTrip(e1000), $"virtio-net {RoundTrip(virtio):F2} us against the e1000's {RoundTrip(e1000):F2} us");
    }

    [Fact]
    public void Under_type1_the_emulated_AHCI_adapter_submits_from_the_vCPU_thread_and_completes_each_command_on_the_IO_thread()
    {
        WorkloadRunResult r = (DeepReads with { Io = "emulated" }).RunOnce(1);
        double commands = r.Stat("vm0.disk0", "commands");
        Assert.Equal(300, commands);
        Assert.Equal(commands, r.Stat("host.hypervisor", "host_io_syscalls")); // io_submit per command, in the PxCI write's trip to user space
        Assert.Equal(commands, r.Stat("vm0.iothread", "completions"));
        Assert.Equal(commands, r.Stat("host.hypervisor", "device_model_steps::CommandComplete"));
        Assert.Equal(r.Stat("host.hypervisor", "device_model_accesses::Disk"), r.Stat("host.hypervisor", "user_exits"));
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void Fio_s_jobs_set_its_queue_depth_within_its_range_and_only_where_it_has_none_in_its_name()
    {
        var fio = new WorkloadScenario { Workload = "fio-randread", Jobs = 64, Profile = "nehalem-x5570", Disk = "nvme", Size = 128 };
        Assert.Null(fio.Problem("jobs"));
        Assert.Equal("fio-randread-qd64", fio.ResolveWorkload().Workload.Name);
        WorkloadRunResult r = fio.RunOnce(1);
        Assert.Equal(128, r.Stat("host.disk0", "commands"));
        Assert.True(r.Stat("host.kernel", "forks") >= 63); // one process a job
        Assert.Contains("1 to 256", (fio with { Jobs = 300 }).Problem("jobs"), StringComparison.Ordinal);
        Assert.Contains("queue depth in its name", (fio with { Workload = "fio-randread-qd32" }).Problem("jobs"), StringComparison.Ordinal);
        Assert.Contains("numjobs for fio-randread", (fio with { Workload = "netperf-rr" }).Problem("jobs"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_report_shows_each_guest_s_backend_thread_and_the_trips_to_user_space_and_a_native_report_neither()
    {
        var rr = new WorkloadScenario { Workload = "netperf-rr", Profile = "nehalem-x5570", Preset = "type1", Size = 100 };
        string report = WorkloadRunReport.ToMarkdown([rr.RunOnce(1)], "netperf-rr", plots: false);
        Assert.Contains("| vm0.iothread | 100 | 100 |", report, StringComparison.Ordinal);
        Assert.Contains("700 device accesses went to the user-space device model", report, StringComparison.Ordinal);
        string native = WorkloadRunReport.ToMarkdown([(rr with { Preset = "native" }).RunOnce(1)], "netperf-rr", plots: false);
        Assert.DoesNotContain("device backend", native, StringComparison.Ordinal);
    }
}
