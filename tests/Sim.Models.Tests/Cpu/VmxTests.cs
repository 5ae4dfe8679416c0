using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;
using Sim.Models.Virtualization;

namespace Sim.Models.Tests.Cpu;

public class VmxTests
{
    private const ulong Data = 0x0000_0010_0000_0000;

    /// <summary>A kernel that records what reaches it: the guest's, or the machine's root host.</summary>
    private sealed class RecordingHost(string name, List<string> log) : ICoreHost
    {
        public AddressSpaceBuilder? Space { get; set; }

        public PhysicalMemory? Memory { get; set; }

        public IOpStream OnSyscall(Core core, ulong number)
        {
            log.Add($"{name}: syscall");
            return new OpSequence(Op.Alu(10), Op.Execute(Instruction.Sysret));
        }

        public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress)
        {
            log.Add($"{name}: {vector}");
            if (vector != ExceptionVector.PageFault)
            {
                return new(new OpSequence(Op.Alu(5), Op.Execute(Instruction.Iret)), RetryFaultingOp: false);
            }
            Space!.Map4K(faultAddress & ~0xFFFUL, Memory!.AllocateFrame(), PageEntry.Writable | PageEntry.User);
            return new(new OpSequence(Op.Alu(50), Op.Execute(Instruction.Iret)), RetryFaultingOp: true);
        }

        public IOpStream OnInterrupt(Core core, int vector)
        {
            log.Add($"{name}: interrupt {vector}");
            return new OpSequence(Op.Execute(Instruction.Iret));
        }

        public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue)
        {
            log.Add($"{name}: {instruction}");
            readValue = 0;
            return 10;
        }

        public IOpStream? OnStreamEnd(Core core) => null;
    }

    /// <summary>
    /// A hypervisor whose every handler reads two VMCS fields, does 100 instructions and resumes;
    /// a page-fault exit is fixed (the page mapped, as a shadow-paging monitor fills its shadow
    /// table) and the faulting access retried.
    /// </summary>
    private sealed class Monitor(VmExecutionControls controls, List<string> log) : IVmxMonitor
    {
        public VmExecutionControls Controls { get; } = controls;

        public List<VmExit> Exits { get; } = [];

        public Action<VmExit>? FixFault { get; set; }

        public IOpStream? OnGuestStopped(Core core) => null;

        public VmExitResponse OnVmExit(Core core, VmExit exit)
        {
            Exits.Add(exit);
            log.Add($"exit: {exit.Reason}");
            Assert.Equal(VmxMode.Root, core.VmxMode);
            bool fault = exit.Reason == ExitReason.ExceptionOrNmi;
            if (fault)
            {
                FixFault!(exit);
            }
            var handler = new OpSequence(Op.Execute(Instruction.Vmread), Op.Execute(Instruction.Vmread), Op.Alu(100), Op.Execute(Instruction.Vmresume));
            return new VmExitResponse(handler, SkipInstruction: !fault);
        }

        public bool HasPendingInterrupt(Core core) => false;

        public bool HasWakeEvent(Core core) => false;

        public int AcknowledgeInterrupt(Core core) => throw new InvalidOperationException("Nothing to inject.");

        /// <summary>The TPR threshold the monitor sets at each entry (the priority class of an interrupt it holds masked).</summary>
        public ulong Threshold { get; set; }

        public ulong TprThreshold(Core core) => Threshold;
    }

    private sealed class Rig
    {
        public Rig(VmExecutionControls controls)
        {
            Sim = new Simulator(1);
            Root = new RecordingHost("root", Log);
            Machine = new Machine(Sim, Profile, MachineConfiguration.Default with { MemoryBytes = 64UL << 20, Nic = false, Disk = DiskKind.None }, _ => Root);
            Guest = new RecordingHost("guest", Log) { Space = Machine.NewAddressSpace(), Memory = Machine.Memory };
            Root.Space = Guest.Space;
            Root.Memory = Machine.Memory;
            Monitor = new Monitor(controls, Log);
            Core.Mmu.LoadCr3(Guest.Space.Pml4); // root mode's tables
            Core.Mmu.AttachGuest(vpid: 0, Machine.Memory, ept: null);
            Core.EnterGuest(Monitor, Guest);
            Core.Mmu.LoadCr3(Guest.Space.Pml4); // the guest's: the same tables, as under shadow paging without the shadow
        }

        public static HardwareProfile Profile => HardwareProfiles.Pentium4672;

        public Simulator Sim { get; }

        public Machine Machine { get; }

        public RecordingHost Root { get; }

        public RecordingHost Guest { get; }

        public Monitor Monitor { get; }

        public List<string> Log { get; } = [];

        public Core Core => Machine.Cores[0];

        public void Run(params Op[] ops) => RunAt(0, ops);

        public void RunAt(int cpl, params Op[] ops)
        {
            Core.Start(new OpSequence(ops), cpl);
            Sim.Run(Tick.MaxValue);
            Core.SettleIdleTime();
        }

        public double Exits(ExitReason reason) => Sim.Stats.Snapshot(Sim.Now).Single(s => s.Path == "host.cpu0" && s.Statistic == "vm_exits::" + reason).Value;
    }

    [Fact]
    public void Instructions_exit_as_the_table_and_the_controls_say_and_every_cycle_is_accounted()
    {
        var rig = new Rig(VmExecutionControls.NestedPaging with { HltExiting = false });
        rig.Run(Op.Execute(Instruction.Cpuid), Op.Execute(Instruction.Rdtsc), Op.Execute(Instruction.Out, 0x80), Op.Alu(7));
        Assert.Equal(["exit: Cpuid", "exit: IoInstruction"], rig.Log); // RDTSC runs in the guest (TSC offsetting)
        Assert.Equal(1, rig.Exits(ExitReason.Cpuid));
        Assert.Equal(0, rig.Exits(ExitReason.Rdtsc));
        VmxTransitionCosts vmx = Rig.Profile.Vmx!;
        Assert.Equal(2 * (vmx.VmExitCycles + vmx.VmEntryCycles), rig.Core.CyclesIn(CycleCategory.VmTransition));
        Assert.Equal(2 * ((2 * vmx.VmcsReadCycles) + 100), rig.Core.CyclesIn(CycleCategory.Hypervisor));
        Assert.Equal(VmxMode.NonRoot, rig.Core.VmxMode);
        Assert.Equal((long)rig.Core.CyclesElapsed, rig.Core.TotalChargedCycles);
        Assert.Equal(0x80UL, rig.Monitor.Exits[1].Operand);
    }

    [Fact]
    public void A_guests_system_calls_and_unlisted_faults_go_to_its_kernel_and_listed_faults_exit_and_retry()
    {
        var nested = new Rig(VmExecutionControls.NestedPaging);
        nested.RunAt(3, Op.Execute(Instruction.Syscall), Op.Store(Data));
        Assert.Equal(["guest: syscall", "guest: PageFault"], nested.Log);
        Assert.Equal(0, nested.Core.CyclesIn(CycleCategory.VmTransition));

        var shadow = new Rig(VmExecutionControls.ShadowPaging);
        shadow.Monitor.FixFault = exit => shadow.Guest.Space!.Map4K(exit.FaultAddress & ~0xFFFUL, shadow.Machine.Memory.AllocateFrame(), PageEntry.Writable | PageEntry.User);
        shadow.Run(Op.Store(Data + 8), Op.Execute(Instruction.MovToCr3, shadow.Guest.Space!.Pml4)); // the guest kernel's own accesses
        Assert.Equal(["exit: ExceptionOrNmi", "exit: ControlRegisterAccess"], shadow.Log);
        Assert.Equal(Data + 8, shadow.Monitor.Exits[0].FaultAddress);
        Assert.Equal((int)ExceptionVector.PageFault, shadow.Monitor.Exits[0].Vector);
        ulong leaf = shadow.Machine.Memory.ReadUInt64(shadow.Guest.Space.LeafEntryAddress(Data)!.Value);
        Assert.NotEqual(0UL, leaf & PageEntry.Dirty); // the store was retried after the resume and completed
    }

    [Fact]
    public void An_external_interrupt_exits_even_when_the_guest_has_interrupts_off()
    {
        var rig = new Rig(VmExecutionControls.NestedPaging);
        rig.Core.Start(new OpSequence(Op.Execute(Instruction.Cli), Op.Alu(1_000), Op.Alu(1_000)), cpl: 0);
        rig.Sim.Schedule(new Sim.Engine.Events.CallbackEvent("irq", () => rig.Core.RaiseInterrupt(0x30)), Tick.FromNanoseconds(100));
        rig.Sim.Run(Tick.MaxValue);
        Assert.Equal(["exit: ExternalInterrupt"], rig.Log);
        Assert.Equal(0x30, rig.Monitor.Exits[0].Vector);
    }

    [Fact]
    public void A_loop_of_PAUSEs_at_CPL_0_exits_once_it_outlasts_the_PLE_window_and_not_at_CPL_3_or_with_gaps_between_them()
    {
        VmExecutionControls ple = VmExecutionControls.NestedPaging with { PauseLoopExiting = true, PleGap = 128, PleWindow = 4096 };
        Op[] loop = [.. Enumerable.Repeat(Op.Execute(Instruction.Pause), 1000)]; // 10 cycles each on this profile: 10,000 cycles of loop
        var kernel = new Rig(ple);
        kernel.Run(loop);
        // Each exit ends a loop; the first PAUSE after the VM entry begins the next (SDM 3C 25.1.3).
        Assert.Equal(2, kernel.Exits(ExitReason.Pause));

        var user = new Rig(ple);
        user.RunAt(3, loop);
        Assert.Equal(0, user.Exits(ExitReason.Pause)); // PLE looks only at CPL 0

        var spaced = new Rig(ple);
        spaced.Run([.. Enumerable.Range(0, 1000).SelectMany(_ => new[] { Op.Execute(Instruction.Pause), Op.Alu(1_000) })]); // far more than the gap between PAUSEs
        Assert.Equal(0, spaced.Exits(ExitReason.Pause));

        var off = new Rig(ple with { PauseLoopExiting = false });
        off.Run(loop);
        Assert.Equal(0, off.Exits(ExitReason.Pause));
    }

    [Fact]
    public void VMX_instructions_outside_VMX_operation_are_invalid_opcodes_and_a_guest_is_entered_once()
    {
        var log = new List<string>();
        var sim = new Simulator(1);
        var host = new RecordingHost("native", log);
        var machine = new Machine(sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = 64UL << 20, Nic = false, Disk = DiskKind.None }, _ => host);
        machine.Cores[0].Start(new OpSequence(Op.Execute(Instruction.Vmresume)), cpl: 0);
        sim.Run(Tick.MaxValue);
        Assert.Equal(["native: InvalidOpcode"], log);

        var rig = new Rig(VmExecutionControls.NestedPaging);
        Assert.Throws<InvalidOperationException>(() => rig.Core.EnterGuest(rig.Monitor, rig.Guest));
    }

    [Fact]
    public void The_controls_decide_the_conditional_exits_and_print_themselves()
    {
        Assert.True(VmExecutionControls.ShadowPaging.Exits(Instruction.Invlpg));
        Assert.False(VmExecutionControls.NestedPaging.Exits(Instruction.Invlpg));
        Assert.True(VmExecutionControls.NestedPaging.Exits(Instruction.Cpuid));   // unconditional
        Assert.False(VmExecutionControls.NestedPaging.Exits(Instruction.Syscall)); // never
        Assert.True(VmExecutionControls.ShadowPaging.Exits(ExceptionVector.PageFault));
        Assert.False(VmExecutionControls.NestedPaging.Exits(ExceptionVector.PageFault));
        Assert.Contains(VmExecutionControls.ShadowPaging.Describe(), line => line.StartsWith("exception bitmap: 0x00004000", StringComparison.Ordinal));
    }

    [Fact]
    public void Under_the_TPR_shadow_MOV_CR8_exits_only_when_it_drops_below_the_threshold_a_masked_interrupt_sets()
    {
        var rig = new Rig(VmExecutionControls.NestedPaging.ForTprShadow(cpuHasIt: true) with { HltExiting = false });
        rig.Run(Op.Execute(Instruction.MovToCr8, 5), Op.Execute(Instruction.MovToCr8, 0)); // no interrupt held: threshold 0, nothing exits
        Assert.Empty(rig.Log);
        Assert.Equal(0UL, rig.Core.TaskPriority);

        rig.Monitor.Threshold = 3; // an interrupt of class 3 pending, masked by the guest's priority: the monitor sets the threshold at its next entry
        rig.Run(Op.Execute(Instruction.MovToCr8, 6), Op.Execute(Instruction.Cpuid), Op.Execute(Instruction.MovToCr8, 4), Op.Execute(Instruction.MovToCr8, 2));
        Assert.Equal(["exit: Cpuid", "exit: TprBelowThreshold"], rig.Log); // 4 is not below 3; 2 is, and exits after the write (trap-like)
        Assert.Equal(2UL, rig.Monitor.Exits[1].Operand);
        Assert.Equal(2UL, rig.Core.TaskPriority);

        var without = new Rig(VmExecutionControls.NestedPaging.ForTprShadow(cpuHasIt: false) with { HltExiting = false });
        without.Run(Op.Execute(Instruction.MovToCr8, 5), Op.Execute(Instruction.MovToCr8, 0));
        Assert.Equal(2, without.Exits(ExitReason.ControlRegisterAccess)); // no TPR shadow: every write exits (CR8-load exiting)
        Assert.Contains(VmExecutionControls.NestedPaging.ForTprShadow(true).Describe(), l => l == "CR8-load exiting: False, use TPR shadow: True");
    }
}
