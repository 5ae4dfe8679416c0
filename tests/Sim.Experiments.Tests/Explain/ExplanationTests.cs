using System.Text.Json;
using Sim.Experiments.Explain;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Nanobenchmarks;

namespace Sim.Experiments.Tests.Explain;

/// <summary>The anatomy of one operation: a nanobenchmark's last iteration traced on the machine and told as phases.</summary>
public class ExplanationTests
{
    private static readonly HardwareProfile Nehalem = HardwareProfiles.NehalemX5570;

    private static Explanation Explain(string benchmark, VirtualizationAxes axes) => Explanation.Of(Nehalem, Nanobenchmark.Get(benchmark), axes);

    [Fact]
    public void An_IN_under_VT_x_exits_runs_the_handler_and_the_device_model_and_enters_again()
    {
        Explanation e = Explain("in", VirtualizationAxes.ForPreset("type1", Nehalem));
        string[] story = [.. e.Phases.Select(p => p.What)];
        int exit = Array.FindIndex(story, s => s.StartsWith("VM exit: IoInstruction", StringComparison.Ordinal));
        int model = e.Phases.ToList().FindIndex(p => p.Category == CycleCategory.DeviceEmulation);
        int entry = Array.FindIndex(story, s => s.StartsWith("VM entry", StringComparison.Ordinal));
        Assert.Equal("IN port 0x80", story[exit - 1]);
        Assert.True(exit < model && model < entry, string.Join(" | ", story));
        Assert.Equal((ulong)Nehalem.Vmx!.VmExitCycles, e.Phases[exit].Cycles);
        Assert.Equal((ulong)Nehalem.Vmx.VmEntryCycles, e.Phases[entry].Cycles);
        Assert.Contains(e.Phases, p => p.Where == "hypervisor" && p.What.Contains("VMREAD x10", StringComparison.Ordinal));
        // The phases tile the iteration: each begins where the one before ended.
        for (int i = 1; i < e.Phases.Count; i++)
        {
            Assert.Equal(e.Phases[i - 1].Offset + e.Phases[i - 1].Cycles, e.Phases[i].Offset);
        }
    }

    [Fact]
    public void Natively_the_same_operation_stays_in_the_kernel_and_a_trap_and_emulate_monitor_takes_a_trap()
    {
        Explanation native = Explain("in", VirtualizationAxes.Native);
        Assert.All(native.Phases, p => Assert.Equal(CycleCategory.Kernel, p.Category));
        var trapAndEmulate = VirtualizationAxes.Resolve("native", Nehalem, CpuVirtualization.TrapAndEmulate, null, null, null);
        Explanation trapped = Explain("in", trapAndEmulate);
        Assert.Contains(trapped.Phases, p => p.What == "IN traps to the monitor (#GP delivered)");
        Assert.DoesNotContain(trapped.Phases, p => p.Category == CycleCategory.VmTransition);
    }

    [Fact]
    public void A_paravirtual_kernel_s_system_call_goes_through_the_monitor_and_a_container_s_does_not()
    {
        HardwareProfile p4 = HardwareProfiles.Pentium4672;
        var getpid = Sim.Workloads.WorkloadCatalog.Get("lat-null").Workload;
        Explanation pv = Explanation.Of(p4, getpid, VirtualizationAxes.ForPreset("paravirt", p4));
        Assert.Contains(pv.Phases, p => p.Category == CycleCategory.Hypervisor);
        Assert.Equal("SYSCALL", pv.Phases[0].What);
        Explanation container = Explanation.Of(p4, getpid, VirtualizationAxes.ForPreset("oslevel", p4));
        Assert.DoesNotContain(container.Phases, p => p.Category == CycleCategory.Hypervisor);
        Assert.Contains(container.Phases, p => p.Where == "kernel"); // one kernel, the host's: no guest kernel
    }

    /// <summary>
    /// An emulated device is software: the monitor runs its model and does not touch the port, so
    /// the legacy bus cycle a native IN from port 0x80 waits for (most of its calibrated 3,209
    /// cycles on the Pentium 4) is not paid under any monitor that emulates the port.
    /// </summary>
    [Theory]
    [InlineData(CpuVirtualization.HardwareAssist, Hosting.BareMetal)]
    [InlineData(CpuVirtualization.HardwareAssist, Hosting.Hosted)]
    [InlineData(CpuVirtualization.TrapAndEmulate, Hosting.BareMetal)]
    [InlineData(CpuVirtualization.BinaryTranslation, Hosting.BareMetal)]
    [InlineData(CpuVirtualization.BinaryTranslation, Hosting.Hosted)]
    public void An_emulated_port_access_runs_the_device_model_and_waits_for_no_bus(CpuVirtualization cpu, Hosting hosting)
    {
        HardwareProfile p4 = HardwareProfiles.Pentium4672;
        Explanation native = Explanation.Of(p4, Nanobenchmark.Get("in"), VirtualizationAxes.Native);
        ulong bus = native.Phases.Single(p => p.What.EndsWith("IN port 0x80", StringComparison.Ordinal)).Cycles;
        Assert.True(bus > 3_000, $"the native IN waits for the bus: {bus} cycles");
        Explanation e = Explanation.Of(p4, Nanobenchmark.Get("in"), new VirtualizationAxes(cpu, MmuVirtualization.Shadow, IoVirtualization.Emulated, hosting));
        ulong model = (ulong)e.Phases.Where(p => p.Category == CycleCategory.DeviceEmulation).Sum(p => (decimal)p.Cycles);
        Assert.InRange(model, 1UL, bus / 3); // the model's code and its state line, no bus wait
        Assert.DoesNotContain(e.Phases, p => p.Where.StartsWith("guest", StringComparison.Ordinal) && p.Cycles >= bus);
    }

    [Fact]
    public void The_trace_file_has_one_complete_event_per_phase()
    {
        HardwareProfile p4 = HardwareProfiles.Pentium4672; // no TPR shadow: the MOV CR8 exits
        Explanation e = Explanation.Of(p4, Nanobenchmark.Get("cr8wr"), VirtualizationAxes.ForPreset("type1", p4));
        using JsonDocument json = JsonDocument.Parse(ExplanationOutput.ChromeTrace(e, p4));
        JsonElement[] complete = [.. json.RootElement.GetProperty("traceEvents").EnumerateArray().Where(x => x.GetProperty("ph").GetString() == "X")];
        Assert.Equal(e.Phases.Count, complete.Length);
        Assert.Contains(complete, x => x.GetProperty("name").GetString()!.StartsWith("VM exit: ControlRegisterAccess", StringComparison.Ordinal));
        Assert.True(ExplanationOutput.Timeline(e).Length > 10_000);
    }
}

/// <summary>Every workload 'virtsim explain --help' offers can be explained under every architecture that runs it.</summary>
public class ExplainableWorkloadTests
{
    public static TheoryData<string> Offered() => [.. Explanation.Explainable.Select(w => w.Name)];

    [Theory]
    [MemberData(nameof(Offered))]
    public void Each_offered_workload_is_explained_under_every_architecture(string name)
    {
        HardwareProfile profile = HardwareProfiles.NehalemX5570;
        IWorkload workload = Explanation.Explainable.Single(w => w.Name == name);
        foreach (VirtualizationAxes axes in Explanation.Architectures(profile, workload))
        {
            Explanation e = Explanation.Of(profile, workload, axes);
            Assert.NotEmpty(e.Phases);
            Assert.True(e.TotalCycles > 0, $"{name} under {axes}");
        }
    }

    /// <summary>The monitor entries of docs/virtualization.md's table "Monitor entries per operation, against the real monitors".</summary>
    [Theory]
    [InlineData("pgfault", "type1", null, "PageFault:0")]
    [InlineData("pgfault", "type1", "shadow", "ExceptionOrNmi (basic reason 0):2")] // KVM's shadow MMU: the leaf table is out of sync
    [InlineData("pgfault", "type2", "shadow", "ExceptionOrNmi (basic reason 0):3")] // VMware's hosted VT-x monitor traces every write
    [InlineData("pgfault", "trap-and-emulate", null, "PageFault delivered to the monitor:3")]
    [InlineData("ptemod", "type1", null, "PageFault:0")]
    [InlineData("ptemod", "type1", "shadow", "ExceptionOrNmi (basic reason 0):0")]
    [InlineData("ptemod", "type2", "shadow", "ExceptionOrNmi (basic reason 0):1")]
    [InlineData("pgfault", "binary-translation", null, "PageFault delivered to the monitor:2")] // the guest's PTE store adapted to a callout
    [InlineData("ptemod", "binary-translation", null, Sim.Models.Cpu.Core.AdaptedWrite + ":1")] // adapted after its third fault
    [InlineData("lat-pagefault", "binary-translation", null, "PageFault delivered to the monitor:3")]
    [InlineData("lat-pagefault", "type1", "shadow", "ExceptionOrNmi (basic reason 0):3")]
    [InlineData("lat-pagefault", "trap-and-emulate", null, "PageFault delivered to the monitor:4")]
    public void Each_operation_enters_the_monitor_as_often_as_the_docs_say(string workload, string architecture, string? mmu, string expected)
    {
        HardwareProfile nehalem = HardwareProfiles.NehalemX5570;
        var scenario = new Sim.Experiments.Scenarios.WorkloadScenario
        {
            Workload = workload, Profile = nehalem.Name, Preset = architecture.Contains('-', StringComparison.Ordinal) ? "native" : architecture,
            Cpu = architecture.Contains('-', StringComparison.Ordinal) ? architecture : null, Mmu = mmu,
        };
        IWorkload benchmark = Explanation.Explainable.First(w => w.Name == workload);
        ExplanationView view = ExplanationView.Of([Explanation.Of(nehalem, benchmark, scenario.ResolveAxes())]);
        string[] parts = expected.Split(':');
        int count = view.Architectures[0].Exits.Where(x => x.Reason == parts[0]).Sum(x => x.Count);
        Assert.Equal(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), count);
        if (parts[1] == "0")
        {
            Assert.Empty(view.Architectures[0].Exits); // with EPT the guest's own tables take it all: no exit
        }
    }
}
