using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// The hypervisor's scheduler of virtual CPUs (and, hosted, the host's processes) on physical cores, after Xen's credit scheduler's
/// defaults (xen/common/sched/credit.c): each virtual CPU stays on the physical core it was
/// placed on; the virtual CPUs of a core take turns round-robin in slices of 30 ms
/// (CSCHED_DEFAULT_TSLICE_MS), checked on a scheduler tick every 10 ms (CSCHED_TICKS_PER_TSLICE,
/// 3 per slice); a virtual CPU that wakes from blocking is boosted (CSCHED_PRI_TS_BOOST) and
/// preempts the one running. A virtual CPU that blocks or powers off gives its core to the next
/// runnable one at once.
/// </summary>
/// <remarks>
/// Model: no credits or weights (every virtual CPU has the same share), no migration between
/// physical cores, no load balancing. The tick runs only on a core with more than one virtual
/// CPU: a core with one stays tickless, as before there was a scheduler.
/// </remarks>
internal sealed class VcpuScheduler
{
    /// <summary>Xen credit's default time slice: 30 ms.</summary>
    public const ulong SliceMicroseconds = 30_000;

    /// <summary>Xen credit's tick: three per slice.</summary>
    public const ulong TickMicroseconds = SliceMicroseconds / 3;

    /// <summary>The vector of the scheduler's tick on the physical local APIC: Linux's LOCAL_TIMER_VECTOR (0xEC, arch/x86/include/asm/irq_vectors.h).</summary>
    public const int TickVector = 0xEC;

    private readonly Machine _machine;
    private readonly List<SchedulingEntity>[] _placed;
    private readonly SchedulingEntity?[] _running;
    private readonly ulong _sliceCycles;
    private readonly Counter _switches;
    private readonly Counter _preemptions;

    public VcpuScheduler(Machine machine, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(stats);
        _machine = machine;
        _placed = new List<SchedulingEntity>[machine.Cores.Count];
        for (int i = 0; i < _placed.Length; i++)
        {
            _placed[i] = [];
        }
        _running = new SchedulingEntity?[machine.Cores.Count];
        _sliceCycles = machine.Profile.FrequencyHz * SliceMicroseconds / 1_000_000;
        _switches = stats.Counter("vcpu_switches", "count", "times a physical core was handed from one virtual CPU to another");
        _preemptions = stats.Counter("vcpu_preemptions", "count", "switches that took the core from a runnable virtual CPU (slice over, or a woken one boosted)");
    }

    /// <summary>
    /// Places <paramref name="vcpu"/> on its physical core: the first there runs first; a second
    /// starts the core's scheduler tick (periodic, on the physical local APIC).
    /// </summary>
    public void Place(SchedulingEntity vcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        List<SchedulingEntity> placed = _placed[vcpu.Physical];
        placed.Add(vcpu);
        if (placed.Count == 1)
        {
            _running[vcpu.Physical] = vcpu;
            return;
        }
        if (placed.Count == 2)
        {
            _machine.Devices.ApicOf(vcpu.Physical).StartPeriodicTimer(TickVector, (uint)(_machine.Configuration.Timings.ApicTimerHz * TickMicroseconds / 1_000_000));
        }
    }

    /// <summary>Whether <paramref name="vcpu"/> is the one its physical core runs (or last ran).</summary>
    public bool IsRunning(SchedulingEntity vcpu) => _running[vcpu.Physical] == vcpu;

    /// <summary>The entity its physical core runs.</summary>
    public SchedulingEntity RunningOn(int physical) => _running[physical] ?? throw new InvalidOperationException($"Nothing is placed on core {physical}.");

    /// <summary>The entity that runs in <paramref name="context"/>.</summary>
    public SchedulingEntity EntityOf(Core context)
    {
        foreach (List<SchedulingEntity> placed in _placed)
        {
            foreach (SchedulingEntity e in placed)
            {
                if (e.Core == context)
                {
                    return e;
                }
            }
        }
        throw new InvalidOperationException($"Nothing is scheduled in {context?.Path}.");
    }

    /// <summary>The virtual CPU to hand the core to now that <paramref name="current"/> cannot run (blocked or powered off): a boosted one first, then the next runnable in turn; null if none.</summary>
    public SchedulingEntity? Next(SchedulingEntity current)
    {
        List<SchedulingEntity> placed = _placed[current.Physical];
        int at = placed.IndexOf(current);
        SchedulingEntity? next = null;
        for (int k = 1; k < placed.Count; k++)
        {
            SchedulingEntity v = placed[(at + k) % placed.Count];
            if (v.State == VcpuState.Runnable && (next is null || (v.Boosted && !next.Boosted)))
            {
                next = v;
            }
        }
        return next;
    }

    /// <summary>The virtual CPU that should take the core from <paramref name="current"/>, still runnable, at <paramref name="cycle"/>: a boosted one, or the next in turn once its slice is over; null to go on.</summary>
    public SchedulingEntity? Preempting(SchedulingEntity current, ulong cycle)
    {
        if (_placed[current.Physical].Count < 2 || Next(current) is not { } next)
        {
            return null;
        }
        return next.Boosted || cycle - current.SliceStart >= _sliceCycles ? next : null;
    }

    /// <summary>
    /// Hands <paramref name="from"/>'s physical core to <paramref name="to"/> at the cycle
    /// <paramref name="from"/> has reached (the end of its switch path): the MMU loads
    /// <paramref name="to"/>'s translation state, the core's interrupts go to its context, and
    /// it runs from that cycle.
    /// </summary>
    public void Switch(SchedulingEntity from, SchedulingEntity to)
    {
        ulong cycle = from.Core.LocalCycle;
        if (from.State == VcpuState.Runnable)
        {
            _preemptions.Increment();
        }
        _switches.Increment();
        if (to is VirtualCpu vcpu)
        {
            to.Core.Mmu.SelectGuest(vcpu.Translation!); // a host process runs on the host's translations, where the core already is
        }
        _machine.Activate(to.Core);
        _running[to.Physical] = to;
        to.Boosted = false;
        to.SliceStart = cycle;
        to.Core.Reschedule(cycle);
    }

    /// <summary>Stops the tick of <paramref name="vcpu"/>'s core once none of its virtual CPUs has anything left to run, so that the simulation can end.</summary>
    public void PoweredOff(VirtualCpu vcpu)
    {
        List<SchedulingEntity> placed = _placed[vcpu.Physical];
        if (placed.Count > 1 && placed.TrueForAll(v => v is not VirtualCpu || v.State == VcpuState.PoweredOff))
        {
            _machine.Devices.ApicOf(vcpu.Physical).Write(0x380, 0);
        }
    }
}
