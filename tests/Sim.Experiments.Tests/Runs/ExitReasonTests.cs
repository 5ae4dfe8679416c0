using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Platform;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Each exit reason arises from the operation that should cause it, and from no other, under the real hypervisor.</summary>
public class ExitReasonTests
{
    private const int Repeats = 10;

    /// <summary>A kernel-mode loop of one operation on the minimal kernel.</summary>
    private sealed class OneOperation(Op op) : IWorkload
    {
        public string Name => "one-" + op.Instruction;

        public string Description => "a kernel-mode loop of " + op.Instruction;

        public int Cpl => 0;

        public void Prepare(WorkloadContext context)
        {
        }

        public IOpStream CreateStream(WorkloadContext context) => new GeneratedStream(context.Size, 1, (_, _) => op);

        public IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome) => [];

        public IReadOnlyList<string> FigureNames => [];
    }

    private static Dictionary<ExitReason, long> Exits(Op op, MmuVirtualization mmu)
    {
        HardwareProfile profile = HardwareProfiles.NehalemX5570;
        var axes = new VirtualizationAxes(CpuVirtualization.HardwareAssist, mmu, IoVirtualization.Emulated, Hosting.BareMetal);
        WorkloadRunResult r = WorkloadRun.Run(profile, new OneOperation(op), Repeats, seed: 1, axes: axes);
        // The first touches of code and stack under shadow paging are page faults: those are not the operation's.
        return r.Exits.Where(e => e.Reason != ExitReason.ExceptionOrNmi || op.Instruction is Instruction.MmioRead or Instruction.MmioWrite)
            .ToDictionary(e => e.Reason, e => e.Count);
    }

    public static TheoryData<string, Op, MmuVirtualization, ExitReason?> Cases => new()
    {
        { "CPUID always exits", Op.Execute(Instruction.Cpuid), MmuVirtualization.Nested, ExitReason.Cpuid },
        { "RDMSR exits without MSR bitmaps", Op.Execute(Instruction.Rdmsr), MmuVirtualization.Nested, ExitReason.Rdmsr },
        { "WRMSR exits without MSR bitmaps", Op.Execute(Instruction.Wrmsr), MmuVirtualization.Nested, ExitReason.Wrmsr },
        { "WBINVD exits", Op.Execute(Instruction.Wbinvd), MmuVirtualization.Nested, ExitReason.Wbinvd },
        { "IN exits as an I/O instruction", Op.In(0x80), MmuVirtualization.Nested, ExitReason.IoInstruction },
        { "OUT exits as an I/O instruction", Op.Out(0x80, 1), MmuVirtualization.Nested, ExitReason.IoInstruction },
        { "a device register read is an EPT violation", Op.MmioRead(PlatformDevices.AhciBase + AhciDisk.Is), MmuVirtualization.Nested, ExitReason.EptViolation },
        { "a local-APIC read is an APIC access", Op.MmioRead(LocalApic.DefaultBase + 0x30), MmuVirtualization.Nested, ExitReason.ApicAccess },
        { "RDTSC does not exit (TSC offsetting)", Op.Execute(Instruction.Rdtsc), MmuVirtualization.Nested, null },
        { "INVLPG does not exit under EPT", Op.Execute(Instruction.Invlpg, 0x1000), MmuVirtualization.Nested, null },
        { "MOV CR8 does not exit (TPR shadow)", Op.Execute(Instruction.MovToCr8, 2), MmuVirtualization.Nested, null },
        { "INVLPG exits under shadow paging", Op.Execute(Instruction.Invlpg, 0x1000), MmuVirtualization.Shadow, ExitReason.Invlpg },
        { "MOV CR8 does not exit under shadow paging either (the CPU has the TPR shadow)", Op.Execute(Instruction.MovToCr8, 2), MmuVirtualization.Shadow, null },
        { "a device register read is a page fault under shadow paging", Op.MmioRead(PlatformDevices.AhciBase + AhciDisk.Is), MmuVirtualization.Shadow, ExitReason.ExceptionOrNmi },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_operation_makes_its_own_exit_and_no_other(string what, Op op, MmuVirtualization mmu, ExitReason? expected)
    {
        Dictionary<ExitReason, long> exits = Exits(op, mmu);
        if (expected is { } reason)
        {
            Assert.True(exits.TryGetValue(reason, out long count) && count >= Repeats, what);
            Assert.All(exits.Keys, k => Assert.True(k == reason, $"{what}: also {k}"));
        }
        else
        {
            Assert.True(exits.Count == 0, $"{what}: {string.Join(", ", exits.Keys)}");
        }
    }
}
