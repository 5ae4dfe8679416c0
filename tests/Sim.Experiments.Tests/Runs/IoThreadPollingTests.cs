using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Tests.Runs;

/// <summary>QEMU's I/O thread polling its virtio-blk queue (poll-max-ns) on a host CPU of its own.</summary>
public class IoThreadPollingTests
{
    private static WorkloadRunResult Run(int ioDepth, long pollMaxNs, string ioThreadCpu = "1") => new WorkloadScenario
    {
        Workload = "fio-randread", Profile = "nehalem-x5570", Disk = "nvme", Size = 1_000, Preset = "type1", Io = "paravirtual",
        HostCores = 2, IoThreadCpu = ioThreadCpu, IoEngine = "libaio", IoDepth = ioDepth, IoThreadPollMaxNs = pollMaxNs,
    }.RunOnce(1);

    private static double Exits(WorkloadRunResult r, ExitReason reason) => r.Exits.Where(e => e.Reason == reason).Sum(e => e.Count);

    [Fact]
    public void A_polling_thread_takes_the_guests_requests_without_their_kicks_and_its_spin_is_no_demand()
    {
        WorkloadRunResult polling = Run(ioDepth: 64, MonitorParameters.DefaultIoThreadPollMaxNanoseconds);
        WorkloadRunResult blocking = Run(ioDepth: 64, pollMaxNs: 0);
        // Without polling each request added to a drained queue is a kick (an EPT violation on the notify register).
        Assert.InRange(Exits(blocking, ExitReason.EptViolation), 0.9 * 1_000, 1_000);
        // Polling, kicks are off while the thread spins: most requests are found, not kicked for, and the thread seldom sleeps.
        Assert.True(Exits(polling, ExitReason.EptViolation) < 0.2 * 1_000);
        Assert.True(polling.Stat("vm0.iothread", "polled") > 0);
        Assert.True(polling.Stat("vm0.iothread", "wakeups") < 0.2 * blocking.Stat("vm0.iothread", "wakeups"));
        Assert.True(polling.FiguresOfMerit.Single(m => m.Name == "iops").Value > blocking.FiguresOfMerit.Single(m => m.Name == "iops").Value);
        // The spin is busy time on its CPU, but not demand: the binding resource counts the thread's work only.
        double pollCycles = polling.Stat("vm0.iothread", "poll_cycles");
        Assert.True(pollCycles > 0 && pollCycles < polling.Stat("vm0.iothread", "cycles"));
        ResourceUse cpu1 = BindingResource.Of(polling).Resources.Single(u => u.Resource.EndsWith("host.cpu1", StringComparison.Ordinal));
        double spin = pollCycles / (polling.Outcome.SimulatedSeconds * polling.FrequencyHz);
        Assert.Equal(polling.HostCpuUtilization[1] - spin, cpu1.Utilization, 6);
        Assert.Equal(0, blocking.Stat("vm0.iothread", "poll_cycles")); // a thread that never polls has no such count
        Assert.Equal(polling.Outcome.CoreCycles, (ulong)polling.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void Polling_adapts_as_QEMU_s_does_and_needs_a_CPU_of_its_own()
    {
        // At depth 1 a read waits 116 us on the medium, more than the most the thread polls: after each completion it
        // blocks at once (poll_ns back to 0), after each kick it polls 4 us (grown from 0 by the short wait for the kick).
        WorkloadRunResult shallow = Run(ioDepth: 1, MonitorParameters.DefaultIoThreadPollMaxNanoseconds);
        double perRead = shallow.Stat("vm0.iothread", "poll_cycles") / 1_000 / shallow.FrequencyHz * 1e9;
        Assert.InRange(perRead, 0.5 * MonitorParameters.FirstIoThreadPollNanoseconds, 1.5 * MonitorParameters.FirstIoThreadPollNanoseconds);
        Assert.InRange(Exits(shallow, ExitReason.EptViolation), 0.95 * 1_000, 1_000); // nothing found by polling: every read kicks
        // On its virtual CPU's own CPU the thread does not poll: the spin would hold the CPU the guest needs.
        WorkloadRunResult shared = Run(ioDepth: 64, MonitorParameters.DefaultIoThreadPollMaxNanoseconds, ioThreadCpu: "vcpu");
        Assert.Equal(0, shared.Stat("vm0.iothread", "polled"));
    }

    [Fact]
    public void Poll_time_is_type1s_QEMU_thread_setting_and_has_a_range()
    {
        Assert.Contains("iothread_poll_max_ns must be 0 (no polling) to", new WorkloadScenario { IoThreadPollMaxNs = -1 }.Problem("iothread_poll_max_ns"), StringComparison.Ordinal);
        Assert.Contains("only preset type1 with io paravirtual and virtio_backend user has",
            new WorkloadScenario { Workload = "fio-randread", Preset = "type1", Io = "paravirtual", VirtioBackend = "kernel", IoThreadPollMaxNs = 0 }.FirstProblem(), StringComparison.Ordinal);
        Assert.Null(new WorkloadScenario { Workload = "fio-randread", Preset = "type1", Io = "paravirtual", IoThreadPollMaxNs = 0 }.FirstProblem());
    }
}
