using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Cpu;

public class CoreTests
{
    private const ulong Data = 0x0000_0010_0000_0000;
    private const ulong UserRw = PageEntry.Writable | PageEntry.User;

    /// <summary>A minimal kernel: fixed handler paths, demand paging, a device that takes 100 cycles.</summary>
    private sealed class TestKernel(AddressSpaceBuilder space, PhysicalMemory memory) : ICoreHost
    {
        public List<(Instruction Instruction, ulong Operand, Tick At)> DeviceAccesses { get; } = [];

        public List<(ExceptionVector Vector, PageFaultErrorCode Code, ulong Address)> Exceptions { get; } = [];

        public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress)
        {
            Exceptions.Add((vector, errorCode, faultAddress));
            if (vector == ExceptionVector.PageFault)
            {
                space.Map4K(faultAddress & ~0xFFFUL, memory.AllocateFrame(), UserRw); // demand-zero
                return new(new OpSequence(Op.Alu(50), Op.Execute(Instruction.Iret)), RetryFaultingOp: true);
            }
            return new(new OpSequence(Op.Alu(5), Op.Execute(Instruction.Iret)), RetryFaultingOp: false);
        }

        public IOpStream OnSyscall(Core core, ulong number) => new OpSequence(Op.Alu(10), Op.Execute(Instruction.Sysret));

        public IOpStream OnInterrupt(Core core, int vector) => new OpSequence(Op.Alu(20), Op.Execute(Instruction.Iret));

        public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue)
        {
            DeviceAccesses.Add((instruction, address, core.Clock.EdgeTick(new Cycles(core.CyclesElapsed)))); // clock started at 0
            readValue = 0x5A;
            return 100;
        }

        public IOpStream? OnStreamEnd(Core core) => null;
    }

    private sealed class Rig
    {
        public Rig(HardwareProfile? profile = null)
        {
            Profile = profile ?? HardwareProfiles.NehalemX5570;
            Sim = new Simulator(1);
            Machine = new Machine(Sim, Profile, MachineConfiguration.Default with { MemoryBytes = 64UL << 20 }, m =>
            {
                Space = m.NewAddressSpace();
                return Kernel = new TestKernel(Space, m.Memory);
            });
            Core = Machine.Cores[0];
            Core.Mmu.LoadCr3(Space.Pml4);
        }

        public HardwareProfile Profile { get; }

        public Simulator Sim { get; }

        public Machine Machine { get; }

        public PhysicalMemory Memory => Machine.Memory;

        public AddressSpaceBuilder Space { get; private set; } = null!;

        public TestKernel Kernel { get; private set; } = null!;

        public Core Core { get; }

        public void RunToEnd()
        {
            Sim.Run(Tick.MaxValue);
            Core.SettleIdleTime();
        }

        public long Exceptions(ExceptionVector v) => (long)Sim.Stats.Snapshot(Sim.Now).Single(s => s.Path == "host.cpu0" && s.Statistic == "exceptions::" + v).Value;
    }

    [Fact]
    public void Blocks_cost_their_class_throughput_and_are_charged_to_the_current_ring()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(Op.Alu(10), Op.Multiply(3), Op.Divide(2)));
        rig.RunToEnd();
        CoreTiming t = rig.Profile.Timing;
        long expected = ((10 * t.AluMilliCycles) + (3 * t.MultiplyMilliCycles) + (2 * t.DivideMilliCycles)) / 1000;
        Assert.Equal(expected, rig.Core.CyclesIn(CycleCategory.User));
        Assert.Equal(0, rig.Core.CyclesIn(CycleCategory.Kernel));
    }

    [Fact]
    public void A_system_call_runs_the_kernel_path_at_ring_0_and_returns()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(Op.Execute(Instruction.Syscall), Op.Alu(7)));
        rig.RunToEnd();
        CoreTiming t = rig.Profile.Timing;
        Assert.Equal(t.InstructionCycles[Instruction.Syscall] + 7, rig.Core.CyclesIn(CycleCategory.User));
        Assert.Equal(10 + t.InstructionCycles[Instruction.Sysret], rig.Core.CyclesIn(CycleCategory.Kernel));
    }

    [Fact]
    public void A_privileged_instruction_in_user_mode_raises_GP_and_the_handler_decides()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(Op.Execute(Instruction.Hlt), Op.Alu(1)));
        rig.RunToEnd();
        Assert.Equal(ExceptionVector.GeneralProtection, Assert.Single(rig.Kernel.Exceptions).Vector);
        // HLT did not halt or retire: the handler ran and skipped it, and the next block ran at CPL 3.
        CoreTiming t = rig.Profile.Timing;
        Assert.Equal(0, rig.Core.CyclesIn(CycleCategory.Idle));
        Assert.Equal(t.ExceptionDeliveryCycles + 5 + t.InstructionCycles[Instruction.Iret], rig.Core.CyclesIn(CycleCategory.Kernel));
        Assert.Equal(1, rig.Core.CyclesIn(CycleCategory.User));
    }

    [Fact]
    public void A_page_fault_reaches_the_kernel_with_its_error_code_and_the_access_is_retried()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(Op.Store(Data + 0x18), Op.Load(Data + 0x20)));
        rig.RunToEnd();
        var fault = Assert.Single(rig.Kernel.Exceptions);
        Assert.Equal(ExceptionVector.PageFault, fault.Vector);
        Assert.Equal(PageFaultErrorCode.Write | PageFaultErrorCode.User, fault.Code);
        Assert.Equal(Data + 0x18, fault.Address);
        Assert.Equal(1, rig.Exceptions(ExceptionVector.PageFault));
        Assert.True(rig.Core.CyclesIn(CycleCategory.PageWalk) > 0);
        Assert.NotEqual(0UL, rig.Memory.ReadUInt64(rig.Space.LeafEntryAddress(Data)!.Value) & PageEntry.Dirty); // the retried store set D
    }

    [Fact]
    public void Entering_an_unmapped_code_page_faults_as_an_instruction_fetch_and_costs_no_instruction()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(Op.Fetch(Data + 0x40), Op.Alu(3)));
        rig.RunToEnd();
        var fault = Assert.Single(rig.Kernel.Exceptions);
        Assert.Equal(PageFaultErrorCode.InstructionFetch | PageFaultErrorCode.User, fault.Code);
        Assert.Equal(Data + 0x40, fault.Address);
        // The fetch itself retires nothing: its miss is a memory stall plus the decoders' time on the line.
        Assert.Equal(3 + rig.Profile.Timing.DecodeCyclesPerMissedLine, rig.Core.CyclesIn(CycleCategory.User));
        Assert.True(rig.Core.CyclesIn(CycleCategory.MemoryStall) > 0);
    }

    [Theory]
    [InlineData("p4-672")]
    [InlineData("nehalem-x5570")]
    public void A_locked_operation_waits_for_buffered_stores_and_costs_the_profiles_locked_cycles(string profile)
    {
        HardwareProfile p = HardwareProfiles.Get(profile);
        ulong Run(Op last)
        {
            var rig = new Rig(p);
            rig.Space.Map4K(Data, rig.Memory.AllocateFrame(), UserRw);
            rig.Space.Map4K(Data + 0x1000, rig.Memory.AllocateFrame(), UserRw);
            var ops = Enumerable.Range(0, 8).Select(i => Op.Store(Data + 0x1000 + (ulong)(i * 64))).Append(last).ToArray();
            rig.Core.Start(new OpSequence(ops));
            rig.RunToEnd();
            Assert.Equal(8 + (last.Kind == OpKind.Atomic ? p.Timing.LockedOperationCycles : 1), rig.Core.CyclesIn(CycleCategory.User));
            return (ulong)rig.Core.CyclesIn(CycleCategory.MemoryStall);
        }
        // The eight store misses drain before the locked operation; a plain load does not wait for them.
        Assert.True(Run(Op.Atomic(Data)) > Run(Op.Load(Data)));
    }

    [Fact]
    public void POPF_restores_the_interrupt_flag_that_PUSHF_saved_and_at_CPL_3_counts_as_a_silent_misbehaviour()
    {
        bool After(params Op[] ops)
        {
            var rig = new Rig();
            rig.Core.Start(new OpSequence(ops), cpl: 0);
            rig.RunToEnd();
            return rig.Core.InterruptsEnabled;
        }
        Op pushf = Op.Execute(Instruction.Pushf), popf = Op.Execute(Instruction.Popf), cli = Op.Execute(Instruction.Cli), sti = Op.Execute(Instruction.Sti);
        Assert.True(After(pushf, cli, popf));        // local_irq_save / restore with interrupts on
        Assert.False(After(cli, pushf, sti, popf));  // nested in a section that had them off

        var user = new Rig();
        user.Core.Start(new OpSequence(pushf, popf));
        user.RunToEnd();
        Assert.Equal(2, user.Sim.Stats.Snapshot(user.Sim.Now).Single(s => s.Path == "host.cpu0" && s.Statistic == "silent_misbehaviours").Value);
    }

    [Fact]
    public void Dividing_by_zero_raises_a_divide_error()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(new Op(OpKind.Divide, default, 3, 1)));
        rig.RunToEnd();
        Assert.Equal(ExceptionVector.DivideError, Assert.Single(rig.Kernel.Exceptions).Vector);
    }

    [Fact]
    public void A_device_sees_each_access_at_the_exact_tick_the_core_reaches_it()
    {
        var rig = new Rig();
        // An unrelated event far ahead must not hold the core back, nor let it skip the synchronization.
        rig.Sim.Schedule(new CallbackEvent("far", () => { }), Tick.FromMilliseconds(1));
        rig.Core.Start(new OpSequence(Op.Alu(1_000), Op.Execute(Instruction.Out, 0x80), Op.Alu(10), Op.Execute(Instruction.In, 0x80)), cpl: 0);
        rig.RunToEnd();
        Assert.Equal(2, rig.Kernel.DeviceAccesses.Count);
        // OUT and IN cost nothing themselves (the device's 100 cycles are the access), so they reach the device at cycles 1,000 and 1,110.
        Assert.Equal(rig.Core.Clock.EdgeTick(new Cycles(1_000)), rig.Kernel.DeviceAccesses[0].At);
        Assert.Equal(rig.Core.Clock.EdgeTick(new Cycles(1_000 + 100 + 10)), rig.Kernel.DeviceAccesses[1].At);
    }

    [Fact]
    public void The_core_runs_inline_and_never_past_a_pending_event()
    {
        var rig = new Rig();
        var observed = new List<(Tick At, ulong CoreCycles)>();
        Tick period = rig.Core.Clock.EdgeTick(new Cycles(500));
        var ops = Enumerable.Repeat(Op.Alu(7), 1_000).ToArray();
        rig.Core.Start(new OpSequence(ops));
        for (int i = 1; i <= 10; i++)
        {
            int n = i;
            rig.Sim.Schedule(new CallbackEvent($"observe{n}", () => observed.Add((rig.Sim.Now, rig.Core.CyclesElapsed)), EventPriority.Statistics), new Tick(period.Picoseconds * (ulong)n));
        }
        rig.RunToEnd();
        Assert.Equal(7_000, rig.Core.CyclesIn(CycleCategory.User));
        foreach ((Tick at, ulong coreCycles) in observed)
        {
            // When an event runs, the core has not run beyond its time by more than one operation.
            Assert.True(rig.Core.Clock.EdgeTick(new Cycles(coreCycles)) <= at + rig.Core.Clock.EdgeTick(new Cycles(7)), $"core at {coreCycles} cycles when the event at {at} ran");
        }
        long slices = (long)rig.Sim.Stats.Snapshot(rig.Sim.Now).Single(s => s.Statistic == "slices").Value;
        Assert.InRange(slices, 10, 30); // one slice per event interval, not one per operation
    }

    [Fact]
    public void A_halted_core_idles_until_an_interrupt_and_every_cycle_is_accounted()
    {
        var rig = new Rig();
        rig.Core.Start(new OpSequence(Op.Execute(Instruction.Sti), Op.Execute(Instruction.Hlt), Op.Alu(5)), cpl: 0);
        Tick wake = rig.Core.Clock.EdgeTick(new Cycles(10_000));
        rig.Sim.Schedule(new CallbackEvent("irq", () => rig.Core.RaiseInterrupt(32), EventPriority.Interrupt), wake);
        rig.RunToEnd();
        CoreTiming t = rig.Profile.Timing;
        long busyBeforeHalt = t.InstructionCycles[Instruction.Sti] + t.InstructionCycles[Instruction.Hlt];
        Assert.Equal(10_000 - busyBeforeHalt, rig.Core.CyclesIn(CycleCategory.Idle));
        Assert.Equal(busyBeforeHalt + t.InterruptDeliveryCycles + 20 + t.InstructionCycles[Instruction.Iret] + 5, rig.Core.CyclesIn(CycleCategory.Kernel));
        Assert.True(rig.Core.InterruptsEnabled); // IRET restored IF
    }

    [Theory]
    [InlineData("p4-672")]
    [InlineData("core2-merom")]
    [InlineData("nehalem-x5570")]
    [InlineData("skylake-sp")]
    public void Cycle_categories_sum_to_the_cores_elapsed_cycles(string profile)
    {
        var rig = new Rig(HardwareProfiles.Get(profile));
        var ops = new List<Op>();
        for (int i = 0; i < 200; i++)
        {
            ops.Add(Op.Alu(3 + (i % 5)));
            ops.Add(Op.Load(Data + ((ulong)i * 4096 * 3)));       // demand faults, walks, misses
            ops.Add(Op.Store(Data + ((ulong)(i % 7) * 64)));
            if (i % 10 == 0)
            {
                ops.Add(Op.Execute(Instruction.Syscall));
            }
            if (i % 17 == 0)
            {
                ops.Add(Op.Execute(Instruction.Cli)); // #GP at CPL 3
            }
            ops.Add(Op.Multiply(2));
        }
        rig.Core.Start(new OpSequence([.. ops]));
        for (int i = 1; i <= 5; i++)
        {
            rig.Sim.Schedule(new CallbackEvent($"irq{i}", () => rig.Core.RaiseInterrupt(40), EventPriority.Interrupt), rig.Core.Clock.EdgeTick(new Cycles((ulong)i * 20_000)));
        }
        Tick end = rig.Core.Clock.EdgeTick(new Cycles(2_000_000));
        rig.Sim.Schedule(new CallbackEvent("end", () => { }, EventPriority.Exit), end); // the run lasts beyond the stream
        rig.Sim.Run(end);
        rig.Core.SettleIdleTime();
        Assert.Equal((long)rig.Core.CyclesElapsed, rig.Core.TotalChargedCycles);
        Assert.Equal(rig.Core.Clock.CyclesAt(rig.Sim.Now).Count, rig.Core.CyclesElapsed); // idle to the end of the run
        Assert.True(rig.Core.CyclesIn(CycleCategory.PageWalk) > 0);
        Assert.True(rig.Core.CyclesIn(CycleCategory.MemoryStall) > 0);
        Assert.True(rig.Core.CyclesIn(CycleCategory.Idle) > 0);
    }
}
