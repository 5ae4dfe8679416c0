using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// A Linux-like kernel on one core: processes with their own address spaces (real page tables
/// sharing the kernel half), fork with copy-on-write, exit, wait4, getpid, demand-zero and
/// copy-on-write page faults, round-robin scheduling with context switches (MOV CR3), and a
/// periodic timer tick acknowledged with an EOI. Each path is an operation stream built from
/// bookkeeping work (<see cref="LinuxKernelCosts"/>), the memory it really touches (page-table
/// entries, zeroed and copied pages, through the direct map) and the privileged operations of
/// <see cref="IPrivilegedOperations"/>; the kernel changes memory and scheduling state as it
/// builds a path, and the core executes the path for its cost.
/// </summary>
/// <remarks>
/// Model: one core; no kernel preemption; a process whose program ends without exit() is left as
/// a zombie; a fatal fault (outside any region, or a write to a read-only region) kills the
/// process with the signal's exit status. docs/machine.md describes each path.
/// </remarks>
public sealed partial class LinuxKernel : ICoreHost
{
    /// <summary>
    /// A time slice in ticks: Linux 2.6's O(1) scheduler gives a nice-0 task 100 ms (DEF_TIMESLICE,
    /// kernel/sched.c), 25 ticks of the 250 Hz tick.
    /// </summary>
    public const int SliceTicks = 25;

    private const long Echild = -10;
    private const long Enosys = -38;

    private readonly IPlatform _platform;
    private readonly List<int> _routedPins = []; // the I/O APIC lines routed so far
    private int _irqCpu;                         // where they are routed: CPU 0 unless set
    private readonly IPrivilegedOperations _ops;
    private readonly KernelText _text;
    private readonly DentryCache _dentries;
    private readonly AddressSpaceBuilder _kernelSpace;
    private readonly PageFrames _frames; // mem_map and every frame's references
    private readonly PageAllocator _pages; // the page allocator: the zone, and on SMP the per-CPU lists in front of it
    private readonly FutexHashTable _futexes; // the futex hash table: buckets, their locks and sleepers
    private readonly PageCache _pageCache; // file pages by file and index, each holding the cache's reference
    private readonly Queue<AddressSpaceBuilder> _deadSpaces = new();
    private int? _timerVector;
    private ulong _tickMicroseconds; // the tick's period
    private DiskRequest? _disk;
    private int _sleepers;
    private SocketTable? _net;
    private E1000State? _e1000;
    private int _nextPid = 1;
    private readonly Counter _contextSwitches;
    private readonly Counter _forks;
    private readonly Counter _clones;
    private readonly Counter _exits;
    private readonly Counter _demandZeroFaults;
    private readonly Counter _copyOnWriteFaults;
    private readonly Counter _syscalls;
    private readonly Counter _fileFaults;
    private readonly Counter _signalsDelivered;
    private readonly Histogram _blockLatency;
    private readonly Histogram _roundTrips;

    public LinuxKernel(IPlatform platform, IPrivilegedOperations ops, LinuxKernelCosts costs)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(ops);
        ArgumentNullException.ThrowIfNull(costs);
        _platform = platform;
        _ops = ops;
        _this = new PerCpu(0, platform.BootCore, ops.IdleLoop(), runQueueLock: 0);
        _cpus.Add(_this);
        _kernelSpace = DirectMap.Build(platform);
        _pages = new PageAllocator(platform.Memory);
        _futexes = new FutexHashTable(platform.Memory);
        _frames = new PageFrames(platform.Memory, _pages);
        _pageCache = new PageCache(_frames);
        _text = new KernelText(platform.Memory, costs);
        _dentries = new DentryCache(platform.Memory);
        StatGroup stats = platform.Sim.Stats.Group(platform.Name + ".kernel");
        _syscalls = stats.Counter("syscalls", "count", "system calls");
        _contextSwitches = stats.Counter("context_switches", "count", "switches from one process to another");
        _forks = stats.Counter("forks", "count", "processes created by fork");
        _clones = stats.Counter("clones", "count", "threads created by clone, sharing their creator's address space");
        _futexWaits = stats.Counter("futex_waits", "count", "FUTEX_WAIT calls");
        _futexWakes = stats.Counter("futex_wakes", "count", "FUTEX_WAKE calls, including those of exiting threads");
        _exits = stats.Counter("exits", "count", "processes that exited or were killed");
        _demandZeroFaults = stats.Counter("demand_zero_faults", "count", "page faults that mapped a fresh zeroed page");
        _copyOnWriteFaults = stats.Counter("copy_on_write_faults", "count", "page faults that broke copy-on-write sharing");
        _fileFaults = stats.Counter("file_faults", "count", "page faults that mapped a page-cache page (program text)");
        _signalsDelivered = stats.Counter("signals_delivered", "count", "signals delivered to a handler");
        _blockLatency = stats.Histogram("block_latency", "ns", "disk requests, from the system call to its return to user mode once the request completed");
        _roundTrips = stats.Histogram("round_trip", "ns", "a process's sendto to the return of its next recvfrom");
        stats.Probe("page_cache_bytes", "bytes", "the page cache at the end: files' pages, each once however many processes or containers map it", () => (long)_pageCache.Count * PhysicalMemory.FrameBytes);
        stats.Probe("memory_in_use_bytes", "bytes", "the kernel's memory in use at the end: its own structures, the page cache and its processes' pages", () => (long)Memory.FramesInUse * PhysicalMemory.FrameBytes);
    }

    /// <summary>The process running on the CPU whose trap is being handled (Linux's current).</summary>
    public Process? Current
    {
        get => _this.RunQueue.Current;
        private set => _this.RunQueue.Current = value;
    }

    public long ProcessesCreated => _nextPid - 1;

    private KernelPath NewPath() => new(_text, _ops, _this.Index);

    private PhysicalMemory Memory => _platform.Memory;

    /// <summary>
    /// Creates a process with no parent with its regions (the populated ones resident from the
    /// start: a file-backed one mapping the page cache's pages of its file, shared), in
    /// <paramref name="container"/> if one is given (its populated anonymous pages charged to it,
    /// at no cost). The first starts on core 0 (unless its cpuset leaves that CPU out: then core 0
    /// idles and it is woken where it may run); later ones are woken as a new process would be.
    /// </summary>
    public Process Start(IProgram program, IReadOnlyList<MemoryRegion> regions, Container? container = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(regions);
        if (container is not null && !_containers.Contains(container))
        {
            throw new ArgumentException("The container is not one of this kernel's.", nameof(container));
        }
        Process init = NewProcess(null, regions, program, container);
        foreach (MemoryRegion r in regions.Where(r => r.Populated))
        {
            HashSet<ulong> huge = MapHugeAtStart(init, r, container);
            for (ulong page = 0; page < r.Pages; page++)
            {
                if (huge.Contains((r.Start + (page * 4096)) & ~(HugePageBytes - 1)))
                {
                    continue;
                }
                if (r.FileId is { } file)
                {
                    // A file the process has mapped and touched before the run (its libraries): the page cache's page, shared, charged to no container.
                    ulong cached = _pageCache.TryFind(file, page, out ulong f) ? f
                        : throw new InvalidOperationException($"Page {page} of '{Files[file].Name}' is not in the page cache: a resident file region maps an image file, which boot preloads.");
                    _frames.MappedAgain(cached);
                    init.Space.Map4K(r.Start + (page * 4096), cached, PageEntry.User);
                    continue;
                }
                ulong frame = Memory.AllocateFrame();
                _frames.Mapped(frame);
                init.Space.Map4K(r.Start + (page * 4096), frame, PageEntry.User | (r.Writable ? PageEntry.Writable : 0));
                if (container is not null)
                {
                    container.Charge(cache: false);
                    OwnPage(init, frame);
                }
            }
        }
        init.Space.TakeNewTables(); // made before the run: no path zeroes them
        _this = _cpus[0];
        Core core = _platform.BootCore;
        if (core.IsStarted || !init.MayRunOn(0))
        {
            if (!core.IsStarted)
            {
                core.LoadCr3BeforeStart(_kernelSpace.Pml4);
                core.Start(_this.Idle, cpl: 0); // the boot CPU idles: the first process's cpuset leaves it out
            }
            init.State = ProcessState.Ready;
            Wake(init, path: null);
            return init;
        }
        core.LoadCr3BeforeStart(init.Space.Pml4);
        Loaded(init.Mm);
        init.State = ProcessState.Running;
        Current = init;
        core.Start(program, 3);
        return init;
    }

    public IOpStream OnSyscall(Core core, ulong number)
    {
        ArgumentNullException.ThrowIfNull(core);
        Enter(core);
        Process current = Current ?? throw new InvalidOperationException("A system call with no current process.");
        var path = NewPath().Run(KernelRoutine.SyscallEntry);
        FreeDeadAddressSpaces(core, path);
        path.ThroughPointer(); // the handler is called through sys_call_table
        _syscalls.Increment();
        switch ((SyscallNumber)number)
        {
            case SyscallNumber.Open:
                OneNamespace(path); // the mount namespace
                Open(path, current, (int)current.Program.PendingArgument);
                break;
            case SyscallNumber.Stat:
                OneNamespace(path);
                Stat(path, current, (int)current.Program.PendingArgument);
                break;
            case SyscallNumber.Close:
                Close(path, current, (int)current.Program.PendingArgument);
                break;
            case SyscallNumber.Read:
                Read(core, path, current, (int)current.Program.PendingArgument);
                break;
            case SyscallNumber.Write:
                Write(core, path, current, (int)current.Program.PendingArgument);
                break;
            case SyscallNumber.Execve:
                OneNamespace(path);
                Execve(core, path, current, (int)current.Program.PendingArgument);
                break;
            case SyscallNumber.ClockGettime:
                // CLOCK_MONOTONIC in nanoseconds, from the core's own clock. A system call here:
                // glibc reads it through the vDSO without entering the kernel, so this costs a
                // kernel entry more than it should (a benchmark calls it twice per run; lmbench's
                // tests twice per repetition, and take the median gap between repetitions off).
                current.Program.SyscallReturned((long)(core.LocalTime.Picoseconds / 1000));
                break;
            case SyscallNumber.Getpid:
                PidNamespaces(path);
                current.Program.SyscallReturned(current.Pid);
                break;
            case SyscallNumber.Fork:
                PidNamespaces(path); // alloc_pid: a pid at every level
                Fork(core, path, current);
                break;
            case SyscallNumber.Clone:
                PidNamespaces(path);
                Clone(core, path, current);
                break;
            case SyscallNumber.Exit:
                Exit(core, path, current, 0);
                break;
            case SyscallNumber.Wait4:
                PidNamespaces(path);
                Wait(core, path, current);
                break;
            case SyscallNumber.SchedYield:
                Yield(core, path, current);
                break;
            case SyscallNumber.SchedSetaffinity:
                SetAffinity(core, path, current);
                break;
            case SyscallNumber.SchedGetaffinity:
                GetAffinity(path, current);
                break;
            case SyscallNumber.Mmap:
                current.Program.SyscallReturned((long)Map(path, current, pages: Math.Max(1, (ulong)current.Program.PendingArgument)));
                break;
            case SyscallNumber.Nanosleep:
                Sleep(core, path, current, (ulong)current.Program.PendingArgument);
                break;
            case SyscallNumber.Sendto:
                OneNamespace(path); // the network namespace
                Send(core, path, current, (int)current.Program.PendingArgument);
                break;
            case SyscallNumber.Recvfrom:
                OneNamespace(path);
                Receive(core, path, current);
                break;
            case SyscallNumber.Pread64:
                BlockIo(core, path, current, (ulong)current.Program.PendingArgument, write: false);
                break;
            case SyscallNumber.IoSetup:
                AioSetup(path, current, current.Program.PendingArgument);
                break;
            case SyscallNumber.IoSubmit:
                AioSubmit(core, path, current, (ulong)current.Program.PendingArgument);
                break;
            case SyscallNumber.IoGetevents:
                AioGetEvents(core, path, current, current.Program.PendingArgument, current.Program.PendingSecondArgument);
                break;
            case SyscallNumber.Pwrite64:
                BlockIo(core, path, current, (ulong)current.Program.PendingArgument, write: true);
                break;
            case SyscallNumber.RtSigaction:
                SignalAction(path, current, current.Program.PendingArgument);
                break;
            case SyscallNumber.Kill:
                PidNamespaces(path);
                Kill(core, path, current, current.Program.PendingArgument);
                break;
            case SyscallNumber.RtSigreturn:
                SignalReturn(core, path, current);
                break;
            case SyscallNumber.Mprotect:
                current.Program.SyscallReturned(Protect(path, current, (ulong)current.Program.PendingArgument, (ulong)current.Program.PendingSecondArgument, current.Program.PendingCount));
                break;
            case SyscallNumber.Futex:
                Futex(core, path, current);
                break;
            case SyscallNumber.Munmap:
                Unmap(path, current, (ulong)current.Program.PendingArgument);
                current.Program.SyscallReturned(0);
                break;
            default:
                current.Program.SyscallReturned(Enosys);
                break;
        }
        if (Current == current && (LeaveIfThrottled(current) || LeaveIfSliceOver(current)))
        {
            SwitchToNext(core, path); // throttled, or its slice over, during the call: it leaves on its way back to user mode, as on a resched
        }
        MeasureAtReturnToUser(core);
        _ops.ReturnFromSyscall(path);
        return path.ToStream();
    }

    public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress)
    {
        ArgumentNullException.ThrowIfNull(core);
        Enter(core);
        Process current = Current ?? throw new InvalidOperationException($"An exception ({vector}, {errorCode}) at {faultAddress:X} with no current process; cpl {core.Cpl}.");
        bool fromUser = core.AtThreadLevel;
        var path = NewPath();
        FreeDeadAddressSpaces(core, path);
        // Only a fault from user mode may sleep: one in a kernel path (a copy to a user buffer) would
        // need the path's own context kept, which the model's kernel paths do not have.
        FaultOutcome outcome = vector == ExceptionVector.PageFault ? HandlePageFault(path, current, errorCode, faultAddress, fromUser ? core : null) : FaultOutcome.Fatal;
        if (outcome == FaultOutcome.Fatal)
        {
            // SIGSEGV (status 139), SIGFPE (136), or the OOM killer's SIGKILL (137): the process dies.
            Exit(core, path, current, FatalFaultStatus(current, vector));
        }
        else if (outcome == FaultOutcome.Waiting)
        {
            // Asleep for its page or for memory (it was put on a wait queue): it runs the faulting
            // instruction again when it next runs, and the CPU goes to another process.
            current.RetryOnResume = core.FaultingOp ?? throw new InvalidOperationException($"A fault at {faultAddress:X} to wait on, with no faulting operation to retry.");
            SwitchToNext(core, path);
        }
        if (fromUser || Current != current)
        {
            MeasureAtReturnToUser(core);
        }
        _ops.ReturnFromInterrupt(path);
        return new ExceptionResponse(path.ToStream(), outcome == FaultOutcome.Retry);
    }

    public IOpStream OnInterrupt(Core core, int vector)
    {
        ArgumentNullException.ThrowIfNull(core);
        Enter(core);
        // No kernel preemption (2.6 kernels built without CONFIG_PREEMPT): an interrupt over a
        // kernel path may wake processes but switches only when it came in over user code.
        bool preemptible = core.AtThreadLevel;
        var path = NewPath();
        FreeDeadAddressSpaces(core, path);
        if (vector == CallFunctionVector && Smp)
        {
            FlushRequested(path);
            return FinishInterrupt(core, path, preemptible);
        }
        if (vector == BalloonVector && _balloon is not null)
        {
            return BalloonInterrupt(core, path, preemptible);
        }
        if (vector == DiskVector && _ahci is not null)
        {
            return AhciInterrupt(core, path, preemptible);
        }
        if (vector == DiskVector && _virtio is not null)
        {
            return VirtioBlockInterrupt(core, path, preemptible);
        }
        if (vector == DiskVector && _nvme is not null)
        {
            return NvmeInterrupt(core, path, preemptible);
        }
        if (vector == DiskVector && _disk is not null)
        {
            DiskInterrupt(path);
        }
        else if (vector == NicVector && _vnet is not null)
        {
            return VirtioNetInterrupt(core, path, preemptible);
        }
        else if (vector == NicVector && _e1000 is not null)
        {
            NicInterrupt(path);
        }
        else if (vector == NicVector && _ixgbe is not null)
        {
            IxgbeInterrupt(path);
        }
        else
        {
            path.Run(KernelRoutine.TimerTick);
            CgroupCpuAccounting(path);
            if (vector == _timerVector)
            {
                KhugepagedTick(path);
                KswapdTick(path);
                Tick(preemptible);
                if (BalloonRetry(core, path, preemptible) is { } retry)
                {
                    return retry;
                }
            }
        }
        return FinishInterrupt(core, path, preemptible);
    }

    /// <summary>
    /// The scheduler's tick: the container's CPU bandwidth charged (a throttled container's
    /// current process leaves the CPU), the current process's time slice counted down, and when
    /// it is over the process goes to the back of the run queue with a new one (weighed by the CPU
    /// cgroups' shares, <see cref="SliceFor"/>).
    /// </summary>
    private void Tick(bool preemptible)
    {
        if (CpuBandwidthTick(_tickMicroseconds, preemptible) || Current is not { } current)
        {
            return;
        }
        current.SliceTicks--; // scheduler_tick counts the slice down in either mode
        if (preemptible)
        {
            LeaveIfSliceOver(current);
        }
    }

    /// <summary>
    /// The current process, its time slice over with another process waiting, goes to the back of
    /// the run queue with a new slice (round robin); true if it did. Checked at a tick over user
    /// code and on the way back to user mode from a system call: a slice that ran out in kernel
    /// mode, as scheduler_tick's set_tsk_need_resched marks it, ends at the return to user mode.
    /// </summary>
    private bool LeaveIfSliceOver(Process current)
    {
        if (current.SliceTicks > 0 || _this.RunQueue.Count == 0)
        {
            return false;
        }
        current.SliceTicks = SliceFor(current);
        current.State = ProcessState.Ready;
        _this.RunQueue.Enqueue(current);
        return true;
    }

    /// <summary>The end of every interrupt: the EOI, a switch if the interrupt made one due, and IRET.</summary>
    private OpSequence FinishInterrupt(Core core, KernelPath path, bool preemptible)
    {
        _ops.EndOfInterrupt(path);
        Process? interrupted = Current;
        if (Current is null && (_this.RunQueue.Count > 0 || WorkToPull))
        {
            SwitchToNext(core, path); // leave the idle loop for a process the interrupt made runnable (or one to pull from a busier CPU)
        }
        else if (Current is { State: ProcessState.Ready } && preemptible)
        {
            SwitchToNext(core, path);
        }
        if (preemptible || Current != interrupted)
        {
            MeasureAtReturnToUser(core); // the IRET goes to user mode: to the interrupted process, or the one switched to
        }
        _ops.ReturnFromInterrupt(path);
        return path.ToStream();
    }

    /// <summary>
    /// The current process's measurements that wait for its return to user mode, handed to the
    /// core, which tells them its time when it gets there: after the return this path ends with
    /// (a SYSRET, an IRET, or a paravirtual kernel's return hypercall) has run, not when the path
    /// is built, which is earlier by the whole path.
    /// </summary>
    private void MeasureAtReturnToUser(Core core)
    {
        if (Current?.OnReturnToUser is { } measure)
        {
            core.WhenBackAtThreadLevel(measure);
            Current.OnReturnToUser = null;
        }
    }

    public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
        _platform.DeviceAccess(core, instruction, address, DeviceWriteRuns(instruction, address, value), out readValue);

    public IOpStream? OnStreamEnd(Core core)
    {
        ArgumentNullException.ThrowIfNull(core);
        Enter(core);
        if (Current is { } current)
        {
            current.State = ProcessState.Zombie; // ended without exit(): left for its parent, at no cost
        }
        else
        {
            // Nothing left to run: the idle core frees what the last exit left, at no cost.
            FreeDeadAddressSpaces(null, NewPath());
            MarkWorkEnded(core);
        }
        return null;
    }

    /// <summary>Starts the periodic scheduler tick on core 0's local APIC (done at boot, not timed).</summary>
    public void StartTimer(int vector, uint initialCount)
    {
        _timerVector = vector;
        _timerInitialCount = initialCount;
        Devices.LocalApic apic = _platform.Devices.ApicOf(0);
        _tickMicroseconds = initialCount * 1_000_000UL / apic.TimerHz;
        apic.StartPeriodicTimer(vector, initialCount);
    }

    /// <summary>
    /// Boot-time routing of I/O APIC line <paramref name="pin"/> to <paramref name="vector"/> on
    /// the CPU device interrupts go to (<see cref="SetIrqAffinity"/>; CPU 0 unless set), unmasked:
    /// the high then the low half of its redirection entry, each selected through IOREGSEL and
    /// written through IOWIN (82093AA data sheet). Not timed.
    /// </summary>
    private void RouteIrq(int pin, int vector, bool levelTriggered)
    {
        Devices.IoApic ioApic = _platform.Devices.IoApic;
        SetDestination(ioApic, pin);
        ioApic.Write(0x00, (ulong)(0x10 + (2 * pin)));
        ioApic.Write(0x10, (uint)vector | (levelTriggered ? 1u << 15 : 0u));
        _routedPins.Add(pin);
    }

    /// <summary>The destination APIC ID of line <paramref name="pin"/>: bits 63:56 of its entry, the top byte of the high half.</summary>
    private void SetDestination(Devices.IoApic ioApic, int pin)
    {
        ioApic.Write(0x00, (ulong)(0x11 + (2 * pin)));
        ioApic.Write(0x10, (ulong)_irqCpu << 24);
    }

    /// <summary>
    /// The CPU every device interrupt is delivered to from now on, as writing its mask to
    /// /proc/irq/N/smp_affinity does (irq_set_affinity reprograms the I/O APIC's redirection
    /// entry): the device's interrupt handler, its softirq work and the wake-ups it makes then
    /// start on that CPU. One CPU for all the lines here; not timed.
    /// </summary>
    public void SetIrqAffinity(int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, _cpus.Count);
        _irqCpu = cpu;
        foreach (int pin in _routedPins)
        {
            SetDestination(_platform.Devices.IoApic, pin);
        }
    }

    /// <summary>
    /// nanosleep: the caller sleeps for <paramref name="nanoseconds"/>; it becomes runnable when the
    /// time is up and runs from the next timer tick or other kernel entry (tick-granularity sleep,
    /// as in kernels without high-resolution timers).
    /// </summary>
    private void Sleep(Core core, KernelPath path, Process p, ulong nanoseconds)
    {
        p.State = ProcessState.Waiting;
        _sleepers++;
        var wake = new Sim.Engine.Events.CallbackEvent($"{_platform.Name}.kernel.wake{p.Pid}", () =>
        {
            _sleepers--;
            p.Program.SyscallReturned(0);
            p.State = ProcessState.Ready;
            Wake(p, path: null);
        });
        _platform.Sim.ScheduleIn(wake, Sim.Engine.Time.Tick.FromNanoseconds(nanoseconds));
        SwitchToNext(core, path);
    }

    /// <summary>sched_yield: the caller goes to the back of the run queue if anyone else can run.</summary>
    private void Yield(Core core, KernelPath path, Process current)
    {
        current.Program.SyscallReturned(0);
        if (_this.RunQueue.Count == 0)
        {
            return;
        }
        current.State = ProcessState.Ready;
        _this.RunQueue.Enqueue(current);
        SwitchToNext(core, path);
    }

    private void SwitchToNext(Core core, KernelPath path)
    {
        if (Current is { State: ProcessState.Waiting or ProcessState.WaitingForChild })
        {
            _voluntarySwitches?.Increment(); // __schedule counts nvcsw when the task leaves the CPU blocked, to another task or to idle
        }
        if ((_this.RunQueue.TakeNext(HeldByThrottle) ?? (Smp ? PullWork(path) : null)) is not { } next)
        {
            if (BlockRequestsWaitedOn > 0 || _sleepers > 0 || AnyNetworkWaiter || AnyThrottled || OtherCpusBusy)
            {
                Current = null; // someone waits for the disk, a timeout or another CPU: idle until an interrupt
                core.ReplaceThread(_this.Idle, cpl: 0);
                return;
            }
            if (Current is { State: ProcessState.Waiting or ProcessState.WaitingForChild })
            {
                throw new InvalidOperationException("No runnable process, and nothing in flight that could wake the one that waits.");
            }
            Current = null; // the last process is gone: the core returns to nothing and halts
            core.ReplaceUserStream(new OpSequence());
            AllWorkDone(core); // and the ticks stop, so the simulation can end
            return;
        }
        _contextSwitches.Increment();
        if (Smp)
        {
            path.SpinLockIrqSave(_this.RunQueueLock); // schedule() holds this CPU's run queue lock across the switch, interrupts off
        }
        // switch_to: the next task's structure is read and its kernel stack becomes the stack.
        CgroupCpuAccounting(path);
        path.Run(KernelRoutine.ContextSwitch).Load(next.KernelMemory.Task).Load(next.KernelMemory.StackBottom).Load(next.KernelMemory.SavedRegisters);
        if (Current is not { } prev || prev == next || prev.Mm != next.Mm)
        {
            LoadAddressSpace(path, next.Mm); // switch_mm; between two threads of one process the tables stay
        }
        if (next.OnSwitchIn is { } work)
        {
            next.OnSwitchIn = null;
            work(path);
        }
        if (Smp)
        {
            path.SpinUnlockIrqRestore(_this.RunQueueLock); // finish_task_switch
        }
        next.LastCpu = _this.Index;
        next.State = ProcessState.Running;
        Current = next;
        core.ReplaceUserStream(next.ResumeStream());
    }
}
