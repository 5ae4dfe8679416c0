using Sim.Models.Virtualization;

namespace Sim.Models.Cpu;

/// <summary>
/// A core as one of the contexts a hypervisor time-shares on a physical core: each virtual CPU
/// placed on a physical core has a context of its own (its threads, its mode, its cycle
/// accounts), and all of them share that core's MMU, TLBs and caches, so one virtual CPU's
/// translations and lines are there, or evicted, when the next runs. Exactly one context runs at
/// a time: the hypervisor's scheduler stops the outgoing one with <see cref="OpKind.Park"/> at
/// the end of its switch path and hands the core to the next with <see cref="Reschedule"/> at the
/// same cycle. The time a context waits for its core is <see cref="CycleCategory.Descheduled"/>
/// (steal time); its cycles and the other contexts' add up to the physical core's time.
/// </summary>
public sealed partial class Core
{
    private bool _descheduled;
    private bool _offCpu; // parked or never yet run: its cycles are not its CPU's (a powered-off one is not descheduled, yet off)
    private bool _blocked; // descheduled while its guest is halted: the wait is idle time until it wakes
    private ulong? _bootCr3; // CR3 loaded before the start of a context waiting for its core: loaded when it gets it
    private Paging.Mmu.GuestTranslation? _translation; // a guest's translation state, when its monitor gave it

    /// <summary>
    /// The CR3 this context's software last loaded: a guest's own, even while the context waits
    /// for its core or its monitor's exit handler runs in root mode (the MMU then translates for
    /// another context); the MMU's otherwise.
    /// </summary>
    public ulong Cr3 => _bootCr3 ?? (_vmxMode != VmxMode.Off && _translation is { } guest ? guest.Pml4 : Mmu.Pml4);

    /// <summary>
    /// Set by a hypervisor while this context halts because its virtual CPU's cap has parked it,
    /// with nothing else for the core to run: the halt is time the virtual CPU was kept from
    /// running (<see cref="CycleCategory.Descheduled"/>, steal time), not idle time.
    /// </summary>
    public bool WaitsForCredit { get; set; }

    /// <summary>True while the context waits for its physical core, which runs another virtual CPU.</summary>
    public bool IsDescheduled => _descheduled;

    /// <summary>The core's cycle clock: cycles of its clock domain since time zero, where its execution has reached.</summary>
    public ulong LocalCycle => _localCycle;

    /// <summary>The simulated time this context's clock has reached (it may run ahead of the simulator's, inline).</summary>
    public Engine.Time.Tick LocalTime => _clock.EdgeTick(new Engine.Time.Cycles(_localCycle));

    /// <summary>Marks a context that is not running as waiting for its physical core: a thread started on it waits until <see cref="Reschedule"/>.</summary>
    public void Deschedule()
    {
        if (!_halted)
        {
            throw new InvalidOperationException($"Core {Path} is running: a running context leaves its core by a Park in its own stream.");
        }
        _descheduled = true;
        _offCpu = true;
    }

    /// <summary>
    /// MOV CR3 done by a kernel's boot before its first thread starts: loaded now on a context that
    /// runs; on one waiting for its core (the MMU holds another virtual CPU's state), loaded when
    /// the context first gets the core.
    /// </summary>
    public void LoadCr3BeforeStart(ulong value)
    {
        if (_frames.Count > 0)
        {
            throw new InvalidOperationException($"Core {Path} has started: CR3 is loaded by its kernel's MOV CR3 now.");
        }
        if (_descheduled)
        {
            _bootCr3 = value;
            return;
        }
        Mmu.LoadCr3(value);
    }

    /// <summary>
    /// Moves this context, waiting for its core, to another physical core (a hypervisor's
    /// scheduler migrated its virtual CPU): from now on its accesses go through that core's
    /// <paramref name="mmu"/> and caches (<paramref name="memory"/>), which hold none of its
    /// translations or lines yet, and a guest's translation state is <paramref name="translation"/>,
    /// attached to that MMU. A hardware thread's own context, tied to its sibling, cannot move.
    /// </summary>
    public void MoveTo(Paging.Mmu mmu, Memory.MemoryPath memory, Paging.Mmu.GuestTranslation? translation)
    {
        ArgumentNullException.ThrowIfNull(mmu);
        ArgumentNullException.ThrowIfNull(memory);
        if (!_descheduled)
        {
            throw new InvalidOperationException($"Core {Path} is not waiting for its physical core: only a context that is off its core can move.");
        }
        if (Sibling is not null)
        {
            throw new InvalidOperationException($"Core {Path} is a hardware thread sharing its core with {Sibling.Path}: it cannot move to another core.");
        }
        (Mmu, Memory) = (mmu, memory);
        _translation = translation ?? _translation;
    }

    /// <summary>
    /// Hands the physical core to this waiting context at <paramref name="cycle"/> (the cycle at
    /// which the outgoing context parked): the wait is charged as descheduled time, and the
    /// context goes on where it stopped: in the hypervisor's switch path, or, for a virtual CPU
    /// that has not run yet, at its guest's first instruction after a VM entry (VMLAUNCH).
    /// </summary>
    public void Reschedule(ulong cycle)
    {
        if (!_descheduled)
        {
            throw new InvalidOperationException($"Core {Path} is not waiting for its physical core.");
        }
        if (cycle > _localCycle)
        {
            Charge(CycleCategory.Descheduled, cycle - _localCycle);
        }
        _descheduled = false;
        _offCpu = false;
        if (_vmxMode == VmxMode.NonRoot)
        {
            // Never ran: contexts park only in root mode, inside a switch path.
            Charge(CycleCategory.VmTransition, (ulong)_vmx!.VmEntryCycles);
            Mmu.EnterGuest();
            _pauseLoopFresh = true;
            if (_bootCr3 is { } cr3)
            {
                Mmu.LoadCr3(cr3);
                _bootCr3 = null;
            }
        }
        _halted = false;
        if (!Scheduled)
        {
            _sim.Schedule(this, _clock.EdgeTick(new Engine.Time.Cycles(_localCycle)));
        }
    }

    /// <summary>
    /// A blocked virtual CPU waiting for its core has been woken (a virtual interrupt): its wait
    /// so far was idle time; from now until it runs it is descheduled.
    /// </summary>
    public void Unblock()
    {
        if (_descheduled && _blocked)
        {
            ChargeIdleUntilNow();
            _blocked = false;
        }
    }

    /// <summary><see cref="OpKind.Park"/>: the context stops at its current cycle; a virtual CPU that has powered off idles from here on instead of waiting.</summary>
    private void Park(ParkReason reason)
    {
        if (_vmxMode == VmxMode.NonRoot)
        {
            throw new InvalidOperationException($"Core {Path}: a guest cannot park its context; a hypervisor's switch path does, on the host side.");
        }
        _descheduled = reason != ParkReason.PoweredOff;
        _blocked = reason == ParkReason.Blocked;
        _offCpu = true;
        Halt();
    }

    /// <summary>
    /// The guest's last thread ended (it has nothing more to run, as a guest that has shut down):
    /// a VM exit to the hypervisor, whose path gives the core to another virtual CPU, or null
    /// when it has none and the core halts where it is.
    /// </summary>
    private IOpStream? GuestStopped()
    {
        IOpStream? root = _monitor!.OnGuestStopped(this);
        if (root is not null)
        {
            Charge(CycleCategory.VmTransition, (ulong)_vmx!.VmExitCycles);
            _vmxMode = VmxMode.Root;
            _rootCategory = CycleCategory.Hypervisor;
            Mmu.ExitGuest();
        }
        return root;
    }
}
