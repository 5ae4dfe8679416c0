using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Hardware;

namespace Sim.Experiments.Tests.Scenarios;

/// <summary>The sizes a study varies in a monitor come from the scenario and change what the mechanisms do.</summary>
public class MonitorParameterTests
{
    private static WorkloadRunResult Run(string yaml)
    {
        WorkloadScenario s = ScenarioFile.Parse(yaml, "test.yaml");
        (Sim.Workloads.IWorkload workload, long size) = s.ResolveWorkload();
        return WorkloadRun.Run(s.ResolveProfile(), workload, size, s.Seed, s.ResolveMachine(), s.ResolveAxes(), s.ResolveMonitorParameters(), s.ResolveContainers());
    }

    [Fact]
    public void A_shadow_cache_of_one_address_space_is_rebuilt_on_every_context_switch()
    {
        const string Common = "workload: lat-ctx-0k\nsize: 20\npreset: type1\nprofile: p4-672\n";
        WorkloadRunResult one = Run(Common + "shadow_cache_roots: 1\n");
        WorkloadRunResult many = Run(Common);
        Assert.True(one.Stat("host.hypervisor.shadow", "evictions") >= 20);
        Assert.Equal(0, many.Stat("host.hypervisor.shadow", "evictions"));
        Assert.True(one.Stat("host.hypervisor.shadow", "hidden_faults") > many.Stat("host.hypervisor.shadow", "hidden_faults"));
    }

    [Fact]
    public void Write_flood_detection_stops_tracing_the_frames_of_exited_address_spaces()
    {
        const string Common = "workload: forkwait\nsize: 20\npreset: type1\nprofile: p4-672\n";
        WorkloadRunResult traced = Run(Common);
        WorkloadRunResult kvmLike = Run(Common + "unshadow_after_writes: 3\n");
        Assert.Equal(0, traced.Stat("host.hypervisor.shadow", "unshadowed"));
        Assert.True(kvmLike.Stat("host.hypervisor.shadow", "unshadowed") > 0);
        // Frames of exited address spaces, whose shadows are still cached, come back as new tables and are written whole.
        Assert.True(kvmLike.Stat("host.hypervisor.shadow", "page_table_writes") * 3 < traced.Stat("host.hypervisor.shadow", "page_table_writes"));
        Assert.True(kvmLike.Outcome.SimulatedSeconds < traced.Outcome.SimulatedSeconds);
    }

    [Fact]
    public void Two_MiB_EPT_pages_shorten_the_two_dimensional_walks()
    {
        const string Common = "workload: gups\nsize: 2000\npreset: type1\nprofile: nehalem-x5570\n";
        WorkloadRunResult small = Run(Common);
        WorkloadRunResult large = Run(Common + "large_ept_pages: true\n");
        Assert.True(large.Stat("host.cpu0.tlb", "walk_references") < small.Stat("host.cpu0.tlb", "walk_references"));
    }

    [Fact]
    public void A_container_memory_limit_is_enforced_and_a_tiny_translation_cache_retranslates()
    {
        WorkloadRunResult oom = Run("workload: lat-pagefault\nsize: 400\npreset: oslevel\nprofile: nehalem-x5570\ncontainer_memory_mib: 1\n");
        Assert.Equal(1, oom.Stat("host.kernel.container", "oom_kills"));
        WorkloadRunResult tiny = Run("workload: lat-null\nsize: 50\ncpu: binary-translation\nprofile: p4-672\ntranslation_cache_kib: 1\n");
        Assert.True(tiny.Stat("host.monitor.translation_cache", "flushes") > 0);
    }

    [Fact]
    public void A_hosted_virtio_backend_in_the_kernel_spares_the_trip_through_the_host()
    {
        const string Common = "workload: fio-randread\nsize: 40\npreset: type2\nio: paravirtual\nprofile: nehalem-x5570\n";
        WorkloadRunResult user = Run(Common);
        WorkloadRunResult vhost = Run(Common + "virtio_backend: kernel\n");
        Assert.True(user.CyclesByCategory[Sim.Models.Cpu.CycleCategory.WorldSwitch] > 0);
        Assert.Equal(0, vhost.CyclesByCategory[Sim.Models.Cpu.CycleCategory.WorldSwitch]);
        Assert.True(vhost.FiguresOfMerit.Single(m => m.Name == "mean_latency").Value < user.FiguresOfMerit.Single(m => m.Name == "mean_latency").Value);
    }

    [Fact]
    public void Without_inline_emulation_the_translator_calls_out_for_each_MOV_CR8()
    {
        const string Common = "workload: cr8wr\nsize: 200\ncpu: binary-translation\nprofile: p4-672\n";
        WorkloadRunResult inline = Run(Common);
        WorkloadRunResult callout = Run(Common + "inline_emulation: false\n");
        // A callout enters the monitor, emulates and returns: some 400 instructions against 10 in the cache.
        double extraPerWrite = ((double)callout.Outcome.CoreCycles - inline.Outcome.CoreCycles) / 200;
        Assert.True(extraPerWrite > 300, $"a callout per MOV CR8 should cost hundreds of cycles more than inline emulation; it cost {extraPerWrite:0} more");
    }

    [Theory]
    [InlineData("inline_emulation: sometimes\n", "'sometimes' is not true or false")]
    [InlineData("unshadow_after_writes: -1\n", "unshadow_after_writes must be 0 (never) to 1000")]
    [InlineData("virtio_backend: vhost\n", "there is no virtio backend 'vhost'; the backends are: user, kernel")]
    [InlineData("shadow_cache_roots: 0\n", "shadow_cache_roots must be 1 to 4096")]
    [InlineData("large_ept_pages: yes\n", "'yes' is not true or false")]
    [InlineData("container_memory_mib: -5\n", "container_memory_mib must be a positive whole number")]
    public void Bad_sizes_are_refused(string yaml, string message)
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioFile.Parse(yaml, "bad.yaml"));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
