using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// The binding resource a run reports (docs/virtualization.md, "The binding resource"): every host
/// CPU, backend thread and device queue with its busy share, the busiest named the bottleneck, and
/// when none is saturated, the device whose latency holds the requests most of their time.
/// </summary>
public class BindingResourceTests
{
    private static readonly WorkloadScenario DeepReads = new()
    {
        Workload = "fio-randread", Profile = "nehalem-x5570", Disk = "nvme", Jobs = 32, Size = 3000, HostCores = 4,
    };

    [Fact]
    public void Natively_random_reads_at_depth_32_on_the_NVMe_medium_are_bound_by_its_latency_with_no_CPU_saturated()
    {
        WorkloadRunResult r = DeepReads.RunOnce(1);
        BindingResource b = BindingResource.Of(r);
        Assert.False(b.IsSaturated);
        Assert.True(b.BoundByLatency);
        Assert.Equal("host.disk0.medium", b.Binding);
        (string _, double device, double latency) = b.Latency!.Value;
        Assert.InRange(device, 115, latency); // the data sheet's 115 us read and its transfer, within each read's latency
        Assert.Contains(b.Resources, u => u.Resource == "host.disk0.medium" && u.Kind == "disk" && u.Utilization is > 0.1 and < 0.9);
        Assert.Contains("bound by host.disk0.medium's latency", WorkloadRunReport.ToText([r], "native"), StringComparison.Ordinal);
    }

    [Fact]
    public void Under_type1_with_virtio_blk_on_one_core_the_core_that_runs_the_guest_and_its_IO_thread_saturates()
    {
        WorkloadRunResult r = (DeepReads with { Preset = "type1", Io = "paravirtual", HostCores = 1 }).RunOnce(1);
        BindingResource b = BindingResource.Of(r);
        Assert.True(b.IsSaturated);
        Assert.Equal("host.cpu0", b.Binding);
        Assert.True(r.FiguresOfMerit.Single(m => m.Name == "iops").Value < 0.5 * DeepReads.RunOnce(1).FiguresOfMerit.Single(m => m.Name == "iops").Value);
    }

    /// <summary>
    /// The acceptance line, as the mechanisms give it: at depth 32 through libaio, with QEMU's
    /// I/O thread on a core of its own, which resource binds depends on the host. On a Skylake-SP
    /// (APIC virtualization and posted interrupts: the guest's completions cost it no exit) a thread
    /// that blocks after each batch (poll-max-ns 0) is the binding resource; polling, as QEMU does
    /// by default, halves its work a read and leaves the medium's latency binding; on a Nehalem
    /// (an exit for each interrupt and its EOI) the guest's own CPU saturates first.
    /// </summary>
    [Fact]
    public void At_depth_32_QEMUs_IO_thread_binds_where_the_guest_side_is_cheap_and_the_thread_does_not_poll()
    {
        WorkloadScenario aio = new()
        {
            Workload = "fio-randread", Profile = "skylake-sp", Disk = "nvme", Size = 1500, HostCores = 2, IoEngine = "libaio", IoDepth = 32,
            Preset = "type1", Io = "paravirtual", IoThreadCpu = "1",
        };
        BindingResource blocking = BindingResource.Of((aio with { IoThreadPollMaxNs = 0 }).RunOnce(1));
        Assert.True(blocking.IsSaturated);
        Assert.Equal("vm0.iothread on host.cpu1", blocking.Binding);
        BindingResource polling = BindingResource.Of(aio.RunOnce(1));
        Assert.True(polling.BoundByLatency);
        Assert.Equal("host.disk0.medium", polling.Binding);
        BindingResource nehalem = BindingResource.Of((aio with { Profile = "nehalem-x5570", IoThreadPollMaxNs = 0 }).RunOnce(1));
        Assert.Equal("host.cpu0", nehalem.Binding);
        BindingResource native = BindingResource.Of((aio with { Preset = "native", Io = null, IoThreadCpu = "vcpu" }).RunOnce(1));
        Assert.Equal("host.disk0.medium", native.Binding);
    }

    [Fact]
    public void A_CPU_whose_busy_time_is_mostly_a_backend_thread_s_is_named_by_the_thread()
    {
        // Two guests' I/O threads pinned to one CPU of their own: it runs nothing else.
        WorkloadRunResult r = (DeepReads with { Preset = "type1", Io = "paravirtual", Guests = 2, HostCores = 3, IoThreadCpu = "2", Size = 1500 }).RunOnce(1);
        BindingResource b = BindingResource.Of(r);
        ResourceUse thread = Assert.Single(b.Resources, u => u.Kind == "backend thread");
        Assert.EndsWith("on host.cpu2", thread.Resource, StringComparison.Ordinal);
        double spin = (r.Stat("vm0.iothread", "poll_cycles") + r.Stat("vm1.iothread", "poll_cycles")) / (r.HostSeconds * r.FrequencyHz); // over the run to the last guest's end
        Assert.True(spin > 0); // on a CPU of their own the threads poll (QEMU's poll-max-ns), which is no demand
        Assert.Equal(r.HostCpuUtilization[2] - spin, thread.Utilization, 9);
        Assert.DoesNotContain(b.Resources, u => u.Resource == "host.cpu2");
    }

    [Fact]
    public void The_json_report_names_the_binding_resource_and_every_resource_s_busy_share()
    {
        WorkloadRunResult r = DeepReads.RunOnce(1);
        string json = WorkloadRunReport.ToJson([r]);
        Assert.Contains("\"binding\": \"host.disk0.medium\"", json, StringComparison.Ordinal);
        Assert.Contains("\"host.cpu0\"", json, StringComparison.Ordinal);
    }
}
