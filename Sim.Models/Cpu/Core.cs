using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Virtualization;

namespace Sim.Models.Cpu;

/// <summary>
/// An in-order, cycle-accounting x86 core. It executes operation streams (a thread's code at
/// CPL 3, kernel paths at CPL 0), charging every cycle to one <see cref="CycleCategory"/>; loads
/// and stores go through its <see cref="Mmu"/> and <see cref="MemoryPath"/>; named instructions
/// cost what the profile's <see cref="CoreTiming"/> says and do what they do (MOV CR3 and INVLPG
/// act on the MMU, HLT halts, SYSCALL enters the kernel); privileged instructions at CPL 3 raise
/// #GP; exceptions and interrupts push the kernel's handler paths.
/// </summary>
/// <remarks>
/// Execution is inline (DESIGN, "Speed"): when its event fires, the core runs operations on its
/// own cycle clock until that clock reaches the next pending event of the simulation, then
/// schedules itself again at its own time and yields. Port and MMIO accesses happen only at a
/// synchronized time: the core first yields until the simulation reaches its clock, so a device
/// sees every access at the exact tick it happens.
/// Model: an ordinary instruction costs its class's throughput; a load issues in one cycle and
/// stalls for the latency beyond the first-level cache (hits are pipelined, misses do not
/// overlap); a store issues in one cycle and its miss drains through the <see cref="StoreBuffer"/>;
/// a locked read-modify-write drains the store buffer and costs the profile's locked-operation
/// cycles plus its miss. Instruction fetch is simulated only where a stream says control enters a
/// code page (<see cref="OpKind.Fetch"/>): that fetch translates through the ITLB, can fault, and
/// stalls for a miss; straight-line fetch within a page is not simulated.
/// </remarks>
public sealed partial class Core : Event
{
    private readonly Simulator _sim;
    private readonly ClockDomain _clock;
    private readonly CoreTiming _timing;
    private readonly ICoreHost _host;
    private readonly VmxTransitionCosts? _vmx;
    private readonly int _l1Latency;
    private readonly int _l1iLatency;
    private readonly ulong _fetchLineBytes; // the instruction cache's line: what a fetch brings in
    private readonly List<Frame> _frames = [];
    private Action<Engine.Time.Tick>? _backAtThreadLevel; // measurements waiting for the return to the thread (WhenBackAtThreadLevel)
    private readonly Queue<int> _pendingInterrupts = new();
    private readonly Stack<bool> _savedInterruptFlags = new(); // IF as PUSHF saved it, for POPF to restore
    private readonly StoreBuffer _storeBuffer;

    private readonly VectorCounter<CycleCategory> _cycles;
    private readonly Counter _instructions;
    private readonly Probe _userMode; // reads _userModeCycles, as of the last reset
    private ulong _userModeCycles;
    private ulong[] _userTimeMasks = KernelTimeMasks; // which categories' charges are user time, by the mode of the operation running

    /// <summary>While a user-mode operation runs, its own cycles, page walks and memory stalls are user time; a fault it raises is charged to the kernel.</summary>
    private static readonly ulong[] UserTimeMasks = [.. Enum.GetValues<CycleCategory>().Select(c => c is CycleCategory.User or CycleCategory.PageWalk or CycleCategory.MemoryStall ? ulong.MaxValue : 0UL)];

    private static readonly ulong[] KernelTimeMasks = new ulong[Enum.GetValues<CycleCategory>().Length];
    private readonly VectorCounter<ExceptionVector> _exceptions;
    private readonly Counter _interrupts;
    private readonly Counter _silentMisbehaviours;
    private readonly Counter _slices;

    private ulong _localCycle;
    private ulong _startCycle;
    private long _milliRemainder;
    private bool _halted;
    private Op? _pending; // an operation to run first in the next slice (retried or awaiting synchronization)
    private IOpStream? _topStream; // the stream of the top frame, kept apart from the frame list for the per-operation fetch
    private int _cpl;
    private bool _topGuestKernel;
    private bool _topMonitor;
    private CycleCategory _lastMode; // the mode of the last operation executed, for a tracer

    public Core(Simulator sim, string path, HardwareProfile profile, Mmu mmu, MemoryPath memory, ICoreHost host)
        : base(EventPriority.CpuTick)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(mmu);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(host);
        _sim = sim;
        _clock = profile.Clock();
        _timing = profile.Timing;
        _host = host;
        _vmx = profile.Vmx;
        Mmu = mmu;
        Memory = memory;
        _l1Latency = profile.L1Data.LatencyCycles;
        _l1iLatency = (profile.L1Instruction ?? profile.L1Data).LatencyCycles; // a core without an L1I fetches through the L1D here
        _fetchLineBytes = (ulong)(profile.L1Instruction ?? profile.L1Data).LineBytes;
        _storeBuffer = new StoreBuffer(profile.Timing.StoreBufferEntries, profile.Timing.FillBuffers);
        Path = path;
        StatGroup stats = sim.Stats.Group(path);
        _cycles = stats.VectorCounter<CycleCategory>("cycles", "cycles", "core cycles by where they went");
        _instructions = stats.Counter("instructions", "count", "instructions retired");
        _userMode = stats.Probe("user_mode_cycles", "cycles", "cycles running user-mode code, its memory stalls and page walks included (user time)", () => (long)_userModeCycles);
        _exceptions = stats.VectorCounter<ExceptionVector>("exceptions", "count", "exceptions raised, by vector");
        _interrupts = stats.Counter("interrupts", "count", "interrupts delivered");
        _silentMisbehaviours = stats.Counter("silent_misbehaviours", "count",
            "sensitive unprivileged instructions executed at CPL 3 (they would misbehave under a deprivileged kernel)");
        _holes = stats.VectorCounter<Instruction>("silent_misbehaviour", "count", "sensitive unprivileged instructions executed at CPL 3, by instruction");
        _monitorCalls = stats.VectorCounter<Instruction>("monitor_interceptions", "count", "guest kernel instructions a software monitor intercepted, by instruction");
        _slices = stats.Counter("slices", "count", "times the core ran inline and yielded to the event queue");
        _lockAcquisitions = stats.Counter("lock_acquisitions", "count", "spinlocks taken");
        _lockContended = stats.Counter("lock_contended", "count", "spinlocks found held by another core, so spun on");
        _lockWait = stats.Histogram("lock_wait", "cycles", "cycles from asking for a spinlock to holding it");
        _lockHold = stats.Histogram("lock_hold", "cycles", "cycles a spinlock was held");
        _pvHalts = stats.Counter("pv_lock_halts", "count", "paravirtual spinlock waits that halted after spinning SPIN_THRESHOLD rounds (kvm_lock_spinning)");
        _pvKicks = stats.Counter("pv_lock_kicks", "count", "unlocks that kicked a halted waiter whose ticket they served (kvm_unlock_kick, KVM_HC_KICK_CPU)");
        _spinCycles = stats.Counter("lock_spin_cycles", "cycles", "cycles spent spinning for a kernel spinlock another context held: PAUSE and the lock word's load, round after round");
        _spinHolderPreempted = stats.Counter("lock_spin_preempted_cycles", "cycles",
            "of the spin, cycles while the lock's holder, or the waiter whose turn it was, was a virtual CPU kept from its physical core (lock-holder preemption): wasted until that one runs again");
        _vmExits = _vmx is null ? null : stats.VectorCounter<ExitReason>("vm_exits", "count", "VM exits by basic exit reason");
        _vmExitCycles = _vmx is null ? null : stats.VectorCounter<ExitReason>("vm_exit_cycles", "cycles",
            "cycles from each VM exit to its VM entry, by exit reason: transitions and handler, without the idle time of a blocked virtual CPU");
        _halted = true;
    }

    public string Path { get; }

    /// <summary>The MMU of the physical core the context runs on (it changes when a hypervisor migrates the context, <see cref="MoveTo"/>).</summary>
    public Mmu Mmu { get; private set; }

    /// <summary>The caches of the physical core the context runs on.</summary>
    public MemoryPath Memory { get; private set; }

    /// <summary>The account of the logical CPU the context runs on, which its cycles on that CPU go to (set by the machine; it changes with <see cref="MoveTo"/>).</summary>
    internal Platform.CpuOccupancy? Occupancy { get; set; }

    public ClockDomain Clock => _clock;

    /// <summary>The current privilege level: 0 or 3.</summary>
    public int Cpl => _cpl;

    /// <summary>RFLAGS.IF.</summary>
    public bool InterruptsEnabled { get; private set; } = true;

    /// <summary>The task-priority register (CR8).</summary>
    public ulong TaskPriority { get; private set; }

    public bool Halted => _halted;

    /// <summary>
    /// True when the core runs its thread itself (user code or a kernel thread such as the idle
    /// loop) rather than a kernel path entered from it: during an interrupt handler's creation,
    /// whether the interrupt came in over the thread or over another kernel path.
    /// </summary>
    public bool AtThreadLevel => _frames.Count == 1;

    /// <summary>The value of the last IN or MMIO read: a driver's stream looks at it to decide what to do next (poll again, or go on).</summary>
    public ulong LastReadValue { get; private set; }

    /// <summary>The core's own clock, in cycles since it started.</summary>
    public ulong CyclesElapsed => _localCycle - _startCycle;

    /// <summary>What watches the core's operations and events (<see cref="ICoreTracer"/>), or null.</summary>
    public ICoreTracer? Tracer { get; set; }

    /// <summary>Where the core stands now: its time, cycles since it started, instructions and cycles by category.</summary>
    public CoreMark Mark() =>
        new(_clock.EdgeTick(new Cycles(_localCycle)), _localCycle - _startCycle, _instructions.Value, Enum.GetValues<CycleCategory>().ToDictionary(c => c, c => _cycles[c]),
            _userMode.Value);

    /// <summary>
    /// Cycles spent running user-mode code (a process at CPL 3, not a deprivileged guest kernel),
    /// its own memory stalls and page walks included: what <c>time</c> reports as user time. The
    /// rest of the busy cycles (neither idle nor descheduled) are system time.
    /// </summary>
    public long UserModeCycles => _userMode.Value;

    /// <summary>Where the core stood when its last thread ended with nothing after it (the workload's end); null while it has work.</summary>
    public CoreMark? WorkEnded { get; private set; }

    /// <summary>Total cycles charged to <paramref name="category"/>.</summary>
    public long CyclesIn(CycleCategory category) => _cycles[category];

    public long TotalChargedCycles => _cycles.Total;

    public override string Name => Path;

    /// <summary>Whether the core has been started (<see cref="Start"/>): it has a thread, or is scheduled to run one.</summary>
    public bool IsStarted => _frames.Count > 0 || Scheduled;

    /// <summary>Starts the core at the current time on <paramref name="stream"/> at CPL 3 (or CPL 0 for a kernel thread).</summary>
    public void Start(IOpStream stream, int cpl = 3)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (cpl is not (0 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(cpl), cpl, "The model has rings 0 and 3 only.");
        }
        if (IsStarted)
        {
            throw new InvalidOperationException($"Core {Path} is already running.");
        }
        _startCycle = _localCycle = _clock.CycleAtOrAfter(_sim.Now).Count;
        PushFrame(ThreadFrame(stream, cpl));
        if (_descheduled)
        {
            return; // a virtual CPU waiting for its physical core: it runs when its hypervisor hands it the core
        }
        _halted = false;
        _sim.Schedule(this, _clock.EdgeTick(new Cycles(_localCycle)));
    }

    /// <summary>
    /// Makes <paramref name="stream"/> the thread the core returns to at CPL 3: what a kernel does
    /// when it switches processes inside a system call, fault or interrupt (the switch of address
    /// space is the kernel path's own MOV CR3).
    /// </summary>
    public void ReplaceUserStream(IOpStream stream) => ReplaceThread(stream, cpl: 3);

    /// <summary>Makes <paramref name="stream"/> the thread the core returns to, at ring <paramref name="cpl"/> (0 for a kernel thread such as the idle loop).</summary>
    public void ReplaceThread(IOpStream stream, int cpl)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (_frames.Count == 0)
        {
            throw new InvalidOperationException($"Core {Path} runs no thread to replace.");
        }
        if (cpl is not (0 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(cpl), cpl, "The model has rings 0 and 3 only.");
        }
        _frames[0] = ThreadFrame(stream, cpl);
        for (int i = 1; i < _frames.Count; i++)
        {
            _frames[i] = _frames[i] with { RetryOp = null }; // a pending retry belonged to the thread switched away from
        }
        SyncTop();
    }

    /// <summary>An interrupt arrives now: delivered at the next operation boundary with IF set; wakes a halted core.</summary>
    public void RaiseInterrupt(int vector)
    {
        _pendingInterrupts.Enqueue(vector);
        if (_halted && _frames.Count > 0 && !_descheduled)
        {
            Wake();
        }
    }

    /// <summary>
    /// The physical core goes over to context <paramref name="next"/> (a scheduler's switch):
    /// interrupts raised and not yet taken here go with it, as they wait in the physical local
    /// APIC and not in a context; one left behind would wait until this context ran again.
    /// </summary>
    public void HandOverInterrupts(Core next)
    {
        ArgumentNullException.ThrowIfNull(next);
        while (next != this && _pendingInterrupts.TryDequeue(out int vector))
        {
            next._pendingInterrupts.Enqueue(vector);
        }
    }

    /// <summary>
    /// Charges a halted core's idle time up to now, or up to <paramref name="until"/> (another
    /// core's local time, which may run ahead of the event queue's: the moment an SMP kernel's
    /// work ended), so the cycle accounts are complete at the end of a run.
    /// </summary>
    public void SettleIdleTime(Tick? until = null)
    {
        if (_halted)
        {
            ChargeIdleUntil(until ?? _sim.Now);
        }
    }

    protected override void Process()
    {
        _slices.Increment();
        ulong limit = LimitCycle();
        bool first = true;
        while (!_halted && (first || _localCycle < limit))
        {
            first = false;
            if (_pendingInterrupts.Count > 0 && (_pending is null || _waitingInterruptibly || SpinExitsOnInterrupt) && InterruptArrives())
            {
                continue;
            }
            if (_interruptWindowExiting && _pending is null && InterruptWindowOpens())
            {
                continue;
            }
            if (_postedInterrupts.Count > 0 && _pending is null && PostedInterruptArrives())
            {
                continue;
            }
            if (!NextOp(out Op op))
            {
                return; // idle: no stream left
            }
            if (IsDeviceAccess(op) && _clock.EdgeTick(new Cycles(_localCycle)) > _sim.Now)
            {
                _pending = op; // synchronize: come back when the simulation reaches this core's clock
                break;
            }
            if (Tracer is { } tracer)
            {
                ulong start = _localCycle;
                int depth = _frames.Count;
                Execute(op);
                tracer.Executed(this, op, _lastMode, depth, start, _localCycle);
            }
            else
            {
                Execute(op);
            }
            if (IsDeviceAccess(op))
            {
                limit = LimitCycle(); // the device may have scheduled events
            }
        }
        if (!_halted && !Scheduled)
        {
            _sim.Schedule(this, _clock.EdgeTick(new Cycles(_localCycle)));
        }
    }

    /// <summary>
    /// Where this slice stops: at the next event. On a machine of several cores with a
    /// synchronization quantum (<see cref="SyncQuantumCycles"/>), other cores' slices do not stop
    /// it before the end of its current quantum; devices, timers and interrupts still do.
    /// </summary>
    private ulong LimitCycle()
    {
        ulong next = _sim.NextEventTime is { } t ? _clock.CycleAtOrAfter(t).Count : ulong.MaxValue;
        if (SyncQuantumCycles == 0 || next == ulong.MaxValue)
        {
            return next;
        }
        ulong hard = _sim.NextNonCpuEventTime is { } h ? _clock.CycleAtOrAfter(h).Count : ulong.MaxValue;
        ulong quantumEnd = ((_localCycle / SyncQuantumCycles) + 1) * SyncQuantumCycles;
        return Math.Min(hard, Math.Max(next, quantumEnd));
    }

    /// <summary>
    /// The synchronization quantum, in cycles: how far this core may run ahead of the other cores
    /// of its machine before it yields to them (lax synchronization, as Graphite and Sniper do).
    /// 0, the default and every one-core machine's, runs the cores in exact time order, yielding at
    /// every other core's slice. Shared lines, locks and IPIs are then seen out of order by up to a
    /// quantum; docs/performance.md measures what that moves.
    /// </summary>
    public ulong SyncQuantumCycles { get; set; }

    private static bool IsDeviceAccess(in Op op) =>
        op.Kind == OpKind.Instruction && op.Instruction is Instruction.In or Instruction.Out or Instruction.MmioRead or Instruction.MmioWrite;

    private bool NextOp(out Op op)
    {
        if (_pending is { } pending)
        {
            _pending = null;
            op = pending;
            return true;
        }
        while (_topStream is not null)
        {
            if (_topStream.TryNext(out op))
            {
                if (op.Kind == OpKind.Return && !(_topGuestKernel && _softwareMonitor!.TranslatesKernelCode))
                {
                    continue; // a routine's return is a mark that only a binary translator's guest kernel pays for: elsewhere not even a step
                }
                return true;
            }
            if (_frames.Count > 1 && _frames[^1].HostProcess)
            {
                _frames.RemoveAt(_frames.Count - 1);
                SyncTop();
                continue;
            }
            if (_frames.Count > 1)
            {
                throw new InvalidOperationException($"Core {Path}: a kernel path ended without IRET or SYSRET.");
            }
            IOpStream? next = EventHost.OnStreamEnd(this);
            if (next is null)
            {
                WorkEnded ??= Mark();
            }
            _frames.Clear();
            SyncTop();
            if (next is not null)
            {
                PushFrame(new Frame(next, 3));
            }
            else if (_vmxMode == VmxMode.NonRoot && GuestStopped() is { } root)
            {
                PushFrame(new Frame(root, 0));
            }
        }
        Halt();
        op = default;
        return false;
    }

    private void Execute(in Op op)
    {
        CycleCategory mode = _vmxMode == VmxMode.Root || _topMonitor ? _rootCategory : Cpl == 0 || _topGuestKernel ? CycleCategory.Kernel : CycleCategory.User;
        _lastMode = mode;
        _userTimeMasks = mode == CycleCategory.User ? UserTimeMasks : KernelTimeMasks;
        switch (op.Kind)
        {
            case OpKind.Alu:
                Block(mode, op.Count, _timing.AluMilliCycles);
                break;
            case OpKind.Branch:
                Block(mode, op.Count, _timing.BranchMilliCycles);
                if (_topGuestKernel)
                {
                    GuestKernelSite = GuestKernelSite with { Access = 0 }; // a loop's branch back: its accesses count again from its start
                }
                break;
            case OpKind.CallReturn:
                Block(mode, op.Count, _timing.CallReturnMilliCycles, instructionsEach: 2);
                break;
            case OpKind.Multiply:
                Block(mode, op.Count, _timing.MultiplyMilliCycles);
                break;
            case OpKind.Divide:
                if (op.Operand != 0)
                {
                    // The block's last divide divides by zero: the ones before it retire.
                    if (op.Count > 1)
                    {
                        Block(mode, op.Count - 1, _timing.DivideMilliCycles);
                    }
                    RaiseException(ExceptionVector.DivideError, 0, 0, op with { Count = 1 });
                    break;
                }
                Block(mode, op.Count, _timing.DivideMilliCycles);
                break;
            case OpKind.Load:
            case OpKind.Store:
            case OpKind.Atomic:
            case OpKind.Fetch:
                Access(op, mode);
                break;
            case OpKind.SpinLock:
                SpinLock(op, mode);
                break;
            case OpKind.SpinUnlock:
                SpinUnlock(op, mode);
                break;
            case OpKind.AtomicAdd:
                AtomicAdd(op, mode);
                break;
            case OpKind.SpinUntil:
                SpinUntil(op, mode);
                break;
            case OpKind.Exchange:
            case OpKind.CompareExchange:
            case OpKind.LoadWord:
            case OpKind.StoreWord:
                WordOperation(op, mode);
                break;
            case OpKind.Instruction:
                ExecuteInstruction(op, mode);
                break;
            case OpKind.Account:
                _rootCategory = (CycleCategory)op.Count;
                break;
            case OpKind.Park:
                Park((ParkReason)op.Count);
                break;
            case OpKind.Resume:
                Return("a return to translated code"); // the frame goes as an IRET's would, at no cost of its own
                break;
            case OpKind.Return when _softwareMonitor!.OnGuestKernelReturn(this) is { } lookup: // only a translating monitor's guest kernel gets here
                PushMonitorFrame(lookup, retry: null);
                break;
        }
    }

    /// <summary>
    /// The other hardware thread of this core (SMT), or null. While it runs (is not halted) the
    /// two share the core's issue slots: a block of ordinary instructions issues at most half the
    /// core's width a cycle (<see cref="CoreTiming.IssueWidth"/>), so instructions that alone would
    /// issue faster slow down, and memory stalls, which use no issue slots, overlap with the other
    /// thread's work. Halted (in its idle loop's HLT), it leaves the core whole to this one.
    /// </summary>
    /// <remarks>
    /// Simplified: an even split whenever both run, whatever each would use; a spinning thread's
    /// PAUSE does not give its slots up; the sibling's state is the one at its own last step.
    /// </remarks>
    public Core? Sibling { get; private set; }

    private int _sharedIssueMilliCycles; // thousandths of a cycle per instruction at half the issue width

    /// <summary>Makes this context and <paramref name="first"/> the two hardware threads of one core.</summary>
    public void ShareCoreWith(Core first)
    {
        ArgumentNullException.ThrowIfNull(first);
        if (first == this || first.Memory != Memory || Sibling is not null || first.Sibling is not null)
        {
            throw new InvalidOperationException("Two hardware threads of one core share its memory path and have no other sibling.");
        }
        (Sibling, first.Sibling) = (first, this);
        _sharedIssueMilliCycles = first._sharedIssueMilliCycles = 2 * 1000 / _timing.IssueWidth;
    }

    private void Block(CycleCategory mode, int count, int milliCyclesEach, int instructionsEach = 1)
    {
        if (Sibling is { _halted: false })
        {
            milliCyclesEach = Math.Max(milliCyclesEach, instructionsEach * _sharedIssueMilliCycles);
        }
        long total = ((long)count * milliCyclesEach) + _milliRemainder;
        _milliRemainder = total % 1000;
        Charge(mode, (ulong)(total / 1000));
        _instructions.Add(count * instructionsEach);
    }

    /// <summary>
    /// Where in the guest kernel's code the last memory access ran (deprivileged guests): the line
    /// last fetched, and which data access after that fetch (or after the last branch, a loop's
    /// back edge within the line) it was; what a binary translator keys an instruction's faults by.
    /// </summary>
    public CodeSite GuestKernelSite { get; private set; }

    /// <summary>
    /// The linear address of the last line of code a guest fetched in VMX non-root operation: at
    /// an exit, the line holding the guest's instruction, which an emulator without decode
    /// assistance fetches again (0 when the guest fetched no code, as the nanobenchmarks' loops do not).
    /// </summary>
    public ulong LastGuestFetch { get; private set; }

    /// <summary>Performs a load, store, locked operation or fetch and charges it; returns the physical address it reached, or null when it faulted or exited.</summary>
    private ulong? Access(in Op op, CycleCategory mode) => Access(op, mode, op.Kind);

    /// <summary>
    /// Performs the memory access of <paramref name="op"/> as one of kind <paramref name="access"/>
    /// (a load, store, locked operation or fetch); a fault or exit retries <paramref name="op"/>
    /// itself afterwards (a spinlock's or an exchange's, not its plain access).
    /// </summary>
    private ulong? Access(in Op op, CycleCategory mode, OpKind access)
    {
        MemoryAccessKind kind = access switch
        {
            OpKind.Store or OpKind.Atomic => MemoryAccessKind.Write,
            OpKind.Fetch => MemoryAccessKind.Fetch,
            _ => MemoryAccessKind.Read,
        };
        ulong address = op.Operand;
        bool user = Cpl == 3;
        GuestCode code = default;
        if (access == OpKind.Fetch)
        {
            if (_vmxMode == VmxMode.NonRoot)
            {
                LastGuestFetch = op.Operand;
            }
            if (_topGuestKernel)
            {
                GuestKernelSite = new CodeSite(op.Operand, 0);
                code = _softwareMonitor!.OnGuestKernelCode(this, op);
                if (code.Before is { } before)
                {
                    PushMonitorFrame(before, op); // the translator, a chaining or a lookup; the fetch again after it
                    return null;
                }
                if (code.ChainedJumps > 0)
                {
                    Block(mode, code.ChainedJumps, _timing.BranchMilliCycles);
                }
                (address, user) = (code.Address, user && !code.Translated);
            }
        }
        else if (_topGuestKernel)
        {
            GuestKernelSite = GuestKernelSite with { Access = GuestKernelSite.Access + 1 };
            if (op.Kind is OpKind.Store or OpKind.Atomic && _softwareMonitor!.OnGuestKernelWrite(this, op) is { } emulated)
            {
                // An adapted translation calls the monitor to do the write: no fault.
                Tracer?.Event(this, AdaptedWrite, CycleCategory.Hypervisor, _localCycle, _localCycle);
                _rootCategory = CycleCategory.Hypervisor;
                PushMonitorFrame(emulated, retry: null);
                return null;
            }
        }
        Memory.Now = _localCycle; // walks and the access itself meet the memory channel at this time
        TranslationResult t = Mmu.Translate(address, kind, user);
        Charge(CycleCategory.PageWalk, (ulong)t.Cycles);
        if (t.Fault == TranslationFault.EptViolation)
        {
            DrainStores();
            EnterRoot(new VmExit(ExitReason.EptViolation, FaultAddress: t.GuestPhysicalAddress, Operand: op.Operand), op);
            return null;
        }
        if (!t.Succeeded)
        {
            ExceptionVector vector = t.Fault == TranslationFault.GeneralProtection ? ExceptionVector.GeneralProtection : ExceptionVector.PageFault;
            RaiseException(vector, t.ErrorCode, address, op);
            return null;
        }
        if (access == OpKind.Atomic)
        {
            DrainStores(); // a locked instruction is a full fence
        }
        int latency = Memory.Access(t.PhysicalAddress, kind);
        ulong miss = (ulong)Math.Max(0, latency - _l1Latency); // a fetch's own wait is ChargeFetch's
        switch (access)
        {
            case OpKind.Fetch:
                ChargeFetch(latency, mode);
                if (code.Translated)
                {
                    FetchTranslatedTail(code, mode);
                }
                return t.PhysicalAddress;
            case OpKind.Atomic:
                // The read for ownership completes before the locked operation does.
                Charge(mode, (ulong)_timing.LockedOperationCycles);
                Charge(CycleCategory.MemoryStall, miss);
                break;
            case OpKind.Store:
                Charge(mode, 1);
                Charge(CycleCategory.MemoryStall, _storeBuffer.Add(_localCycle, miss)); // waits only for room in the store buffer
                break;
            default:
                Charge(mode, 1);
                Charge(CycleCategory.MemoryStall, miss); // a load waits for its data
                break;
        }
        _instructions.Increment();
        return t.PhysicalAddress;
    }

    /// <summary>
    /// A fetch's wait: the front end waits for the line and, when it missed, for the decoders; the
    /// instructions themselves are charged by the blocks that follow.
    /// </summary>
    private void ChargeFetch(int latency, CycleCategory mode)
    {
        Charge(CycleCategory.MemoryStall, (ulong)Math.Max(0, latency - _l1iLatency));
        if (latency > _l1iLatency)
        {
            Charge(mode, (ulong)_timing.DecodeCyclesPerMissedLine);
        }
    }

    /// <summary>The lines of a translated fragment after its first (translated code is longer than the guest's and crosses lines); the monitor's map of the cache cannot fault.</summary>
    private void FetchTranslatedTail(GuestCode code, CycleCategory mode)
    {
        for (ulong line = (code.Address / _fetchLineBytes) + 1; line <= (code.Address + (ulong)code.Bytes - 1) / _fetchLineBytes; line++)
        {
            TranslationResult t = Mmu.Translate(line * _fetchLineBytes, MemoryAccessKind.Fetch, user: false);
            Charge(CycleCategory.PageWalk, (ulong)t.Cycles);
            ChargeFetch(Memory.Access(t.PhysicalAddress, MemoryAccessKind.Fetch), mode);
        }
    }

    /// <summary>Serializing events wait for every buffered store to complete.</summary>
    private void DrainStores() => Charge(CycleCategory.MemoryStall, _storeBuffer.Drain(_localCycle));

    private void ExecuteInstruction(in Op op, CycleCategory mode)
    {
        Instruction i = op.Instruction;
        InstructionInfo info = InstructionTable.Of(i);
        if (Cpl == 3 && Intercepted(op))
        {
            return;
        }
        if (Cpl == 3 && info.Privileged)
        {
            RaiseException(ExceptionVector.GeneralProtection, 0, 0, op);
            return;
        }
        if (Cpl == 3 && info.IsVirtualizationHole)
        {
            _silentMisbehaviours.Increment();
            _holes.Increment(i);
        }
        if (_vmxMode == VmxMode.Off && IsVmxInstruction(i))
        {
            RaiseException(ExceptionVector.InvalidOpcode, 0, 0, op); // #UD outside VMX operation
            return;
        }
        if (i == Instruction.Pause && PauseLoopExits(op))
        {
            return;
        }
        if (_vmxMode == VmxMode.NonRoot && _monitor!.Controls.Exits(i, op.Operand))
        {
            EnterRoot(new VmExit(_monitor.Controls.ReasonFor(i, op.Operand), i, op.Operand, _guest!.DeviceWriteRuns(i, op.Operand, op.Value)), op);
            return;
        }
        DrainStores(); // named instructions are serializing or microcoded: buffered stores complete first
        if (_vmxMode == VmxMode.Root && TryVmxInstruction(i))
        {
            return;
        }
        Charge(mode, (ulong)_timing.InstructionCycles[i]);
        _instructions.Increment();
        if (i == Instruction.Pause && _cpl == 0)
        {
            _pauseEnded = _localCycle; // PAUSE-loop exiting measures from the previous PAUSE at CPL 0
        }
        switch (i)
        {
            case Instruction.Syscall when Cpl == 3 && _frames[^1].HostProcess:
                IHostedMonitor host = _host as IHostedMonitor ?? throw new InvalidOperationException($"Core {Path}: a host process's system call with no hosted monitor.");
                PushFrame(new Frame(host.OnHostSyscall(this, op.Operand), 0, Monitor: _softwareMonitor is not null));
                break;
            case Instruction.Syscall when Cpl == 3:
                PushFrame(new Frame(EventHost.OnSyscall(this, op.Operand), 0, Monitor: EntersMonitor()));
                break;
            case Instruction.Sysret:
            case Instruction.Iret:
                Return(i.ToString());
                break;
            case Instruction.MovToCr3:
                Mmu.LoadCr3(op.Operand);
                break;
            case Instruction.Invlpg:
                Mmu.Invlpg(op.Operand);
                break;
            case Instruction.MovToCr8:
                TaskPriority = op.Operand & 0xF;
                if (TprDropsBelowThreshold())
                {
                    EnterRoot(new VmExit(ExitReason.TprBelowThreshold, Instruction.MovToCr8, op.Operand), faulting: null); // trap-like: the write is done
                }
                break;
            case Instruction.Cli:
                InterruptsEnabled = false;
                break;
            // IF travels through the stack between PUSHF and POPF; at CPL 3 POPF leaves IF alone,
            // silently (the classic virtualization hole), so only ring 0 keeps the saved flags.
            case Instruction.Pushf when Cpl == 0:
                _savedInterruptFlags.Push(InterruptsEnabled);
                break;
            case Instruction.Popf when Cpl == 0 && _savedInterruptFlags.TryPop(out bool saved):
                InterruptsEnabled = saved;
                break;
            case Instruction.Sti:
                InterruptsEnabled = true;
                break;
            case Instruction.Hlt:
                HaltUnlessInterruptPending();
                break;
            case Instruction.In:
            case Instruction.Out:
            case Instruction.MmioRead:
            case Instruction.MmioWrite:
                Charge(mode, (ulong)EventHost.OnDeviceAccess(this, i, op.Operand, op.Value, out ulong read));
                if (i is Instruction.In or Instruction.MmioRead && _vmxMode != VmxMode.Root)
                {
                    LastReadValue = read; // a read's register; the hypervisor's own accesses (a host interrupt's EOI while a guest's emulated read waits in its handler) leave the guest's alone
                }
                break;
        }
    }

    private void Return(string by)
    {
        if (PopFrame(by).RestoresInterruptFlag)
        {
            InterruptsEnabled = true;
        }
    }

    /// <summary>Leaves the top kernel (or hypervisor) frame; an operation it was to retry runs next.</summary>
    private Frame PopFrame(string by)
    {
        if (_frames.Count < 2)
        {
            throw new InvalidOperationException($"Core {Path}: {by} with no kernel entry to return from.");
        }
        Frame frame = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        if (frame.PopsGuestKernel)
        {
            // An emulated SYSRET: the guest kernel's system-call frame goes too.
            if (_frames.Count < 2 || !_frames[^1].GuestKernel)
            {
                throw new InvalidOperationException($"Core {Path}: an emulated return to guest user mode with no guest kernel frame below.");
            }
            if (_frames[^1].RetryOp is { } guestRetry)
            {
                _pending = guestRetry; // the guest's handler was to retry what faulted
            }
            _frames.RemoveAt(_frames.Count - 1);
        }
        SyncTop();
        if (frame.RetryOp is { } retry)
        {
            _pending = retry;
        }
        if (_frames.Count == 1 && _backAtThreadLevel is { } then)
        {
            _backAtThreadLevel = null;
            then(LocalTime);
        }
        return frame;
    }

    /// <summary>
    /// Tells <paramref name="then"/> the core's time when it next returns to its thread (user
    /// mode), after the return instruction and whatever it costs: how a kernel measures a request
    /// that completes when the system call that waited for it returns. One-shot.
    /// </summary>
    public void WhenBackAtThreadLevel(Action<Engine.Time.Tick> then)
    {
        ArgumentNullException.ThrowIfNull(then);
        _backAtThreadLevel += then;
    }

    private void RaiseException(ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress, in Op faulting)
    {
        DrainStores();
        if (_vmxMode == VmxMode.NonRoot && _monitor!.Controls.Exits(vector))
        {
            _exceptions.Increment(vector);
            EnterRoot(new VmExit(ExitReason.ExceptionOrNmi, Vector: (int)vector, Value: (ulong)errorCode, FaultAddress: faultAddress), faulting);
            return;
        }
        _exceptions.Increment(vector);
        DeliverException(vector, errorCode, faultAddress, faulting);
    }

    /// <summary>Delivers an exception through the IDT to the kernel's handler; <paramref name="faulting"/> is retried after it if the handler says so.</summary>
    private void DeliverException(ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress, Op? faulting)
    {
        bool monitor = EntersMonitor();
        ulong start = _localCycle;
        Charge(monitor ? CycleCategory.Hypervisor : CycleCategory.Kernel, (ulong)_timing.ExceptionDeliveryCycles);
        Tracer?.Event(this, $"{vector} delivered to the {(monitor ? "monitor" : "kernel")}", monitor ? CycleCategory.Hypervisor : CycleCategory.Kernel, start, _localCycle);
        _deliveringFaulting = faulting;
        ExceptionResponse response = EventHost.OnException(this, vector, errorCode, faultAddress);
        _deliveringFaulting = null;
        PushFrame(new Frame(response.Handler, 0, response.RetryFaultingOp ? faulting : null, Monitor: monitor));
    }

    /// <summary>Whether an event now goes to a software monitor (which then runs its handler in a monitor frame).</summary>
    private bool EntersMonitor()
    {
        if (_softwareMonitor is null)
        {
            return false;
        }
        _rootCategory = CycleCategory.Hypervisor;
        return true;
    }

    /// <summary>Delivers <paramref name="vector"/> through the IDT; <paramref name="retry"/> is an operation the interrupted code is to execute once the handler returns.</summary>
    private void DeliverInterrupt(int vector, Op? retry = null)
    {
        if (_waitingInterruptibly)
        {
            (retry, _pending, _waitingInterruptibly) = (_pending, null, false); // the wait goes on after the handler
        }
        DrainStores();
        _interrupts.Increment();
        bool monitor = EntersMonitor();
        CycleCategory category = _vmxMode == VmxMode.Root || monitor ? CycleCategory.Hypervisor : CycleCategory.Kernel;
        ulong start = _localCycle;
        Charge(category, (ulong)_timing.InterruptDeliveryCycles);
        Tracer?.Event(this, $"interrupt 0x{vector:X2} delivered to the {(category == CycleCategory.Hypervisor ? "hypervisor" : "kernel")}", category, start, _localCycle);
        bool wasEnabled = InterruptsEnabled;
        InterruptsEnabled = false; // an interrupt gate clears IF; IRET restores it
        PushFrame(new Frame(EventHost.OnInterrupt(this, vector), 0, retry, RestoresInterruptFlag: wasEnabled, Monitor: monitor));
    }

    /// <summary>
    /// Stops executing. If the core ran ahead of the simulation, it still schedules itself at its
    /// own time (a slice that finds it halted does nothing), so the simulation's clock reaches the
    /// moment the core stopped even when no other event lies that far.
    /// </summary>
    private void Halt()
    {
        _halted = true;
        Tick at = _clock.EdgeTick(new Cycles(_localCycle));
        if (!Scheduled && at > _sim.Now)
        {
            _sim.Schedule(this, at);
        }
    }

    private void Wake()
    {
        ChargeIdleUntilNow();
        _halted = false;
        if (!Scheduled)
        {
            _sim.Schedule(this, _clock.EdgeTick(new Cycles(_localCycle)));
        }
    }

    /// <summary>A halted core's clock stands still; catching it up to the simulation's time is idle time.</summary>
    private void ChargeIdleUntilNow() => ChargeIdleUntil(_sim.Now);

    private void ChargeIdleUntil(Tick time)
    {
        ulong now = _clock.CycleAtOrAfter(time).Count;
        if (now > _localCycle)
        {
            Charge((_descheduled && !_blocked) || WaitsForCredit ? CycleCategory.Descheduled : CycleCategory.Idle, now - _localCycle);
        }
    }

    private void Charge(CycleCategory category, ulong cycles)
    {
        _cycles.Add(category, (long)cycles);
        if (!_offCpu)
        {
            Occupancy?.Add(category, cycles); // on its CPU: the CPU's time too
        }
        _localCycle += cycles;
        _userModeCycles += cycles & _userTimeMasks[(int)category]; // branch-free: see UserTimeMasks
    }

    /// <summary>A hosted monitor's trip through the host, to run before the handler just pushed: the host kernel's side first, then the monitor process.</summary>
    private void PushHostRoundTrip(HostRoundTrip trip)
    {
        PushFrame(new Frame(trip.UserProcess, 3, HostProcess: true));
        PushFrame(new Frame(trip.KernelExit, 0, Monitor: _softwareMonitor is not null));
    }

    private void PushFrame(Frame frame)
    {
        _frames.Add(frame);
        SyncTop();
    }

    private void SyncTop()
    {
        if (_frames.Count == 0)
        {
            _topStream = null;
            _cpl = 0;
            _topGuestKernel = _topMonitor = false;
            return;
        }
        Frame top = _frames[^1];
        _topStream = top.Stream;
        _cpl = top.Cpl;
        _topGuestKernel = top.GuestKernel;
        _topMonitor = top.Monitor || top.HostProcess;
    }

    /// <param name="VmHandler">A VT-x exit handler (VMX root mode), left by VMRESUME.</param>
    /// <param name="GuestKernel">The guest kernel's code, running deprivileged under a software monitor.</param>
    /// <param name="Monitor">A software monitor's handler.</param>
    /// <param name="PopsGuestKernel">Its return also leaves the guest kernel's frame below it (an emulated SYSRET).</param>
    /// <param name="HostProcess">A hosted monitor's process on the host, in user mode: its system calls go to the host, and when its stream ends the frame below resumes (its last system call, the ioctl that runs the guest, handed control back).</param>
    private readonly record struct Frame(IOpStream Stream, int Cpl, Op? RetryOp = null, bool RestoresInterruptFlag = false, bool VmHandler = false,
        bool GuestKernel = false, bool Monitor = false, bool PopsGuestKernel = false, bool HostProcess = false);
}
