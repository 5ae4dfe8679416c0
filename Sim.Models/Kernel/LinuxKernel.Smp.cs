using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel on several CPUs: per-CPU data (<see cref="PerCpu"/>), the CPU whose trap is being
/// handled (<c>this_cpu</c>), where a woken or new process runs, the reschedule IPI that wakes an
/// idle CPU, idle balancing that pulls work to a CPU with none, and the run queues' spinlocks.
/// A kernel of one CPU is the uniprocessor build: no spinlocks, no IPIs, no balancing, and its
/// paths are exactly those of the one-CPU model.
/// </summary>
/// <remarks>
/// After Linux 2.6's scheduler (kernel/sched.c): try_to_wake_up's choice of CPU
/// (select_task_rq: an idle CPU, preferring the one the task last ran on), wake_up_new_task with
/// SD_BALANCE_FORK (a new child goes to an idle CPU while its parent runs on), idle_balance when a
/// CPU runs out of work, and the tick's rebalance on an idle CPU; resched_task on another CPU
/// sends RESCHEDULE_VECTOR (smp_send_reschedule). Simplified: balancing pulls one process from the
/// CPU with the most waiting, with no scheduling domains, load weights or cache-hotness test.
/// </remarks>
public sealed partial class LinuxKernel
{
    /// <summary>The reschedule IPI's vector: RESCHEDULE_VECTOR, 0xfd (arch/x86/include/asm/irq_vectors.h).</summary>
    public const int RescheduleVector = 0xFD;

    private readonly List<PerCpu> _cpus = [];
    private PerCpu _this; // the CPU whose trap is being handled, as Linux's this_cpu
    private uint _timerInitialCount;
    private Sim.Engine.Statistics.Counter? _migrations;
    private Sim.Engine.Statistics.Counter? _reschedules;

    /// <summary>The kernel's CPUs: the boot CPU, and the others once <see cref="BringUpSecondaryCpus"/> has run.</summary>
    public IReadOnlyList<PerCpu> Cpus => _cpus;

    private bool Smp => _cpus.Count > 1;

    /// <summary>
    /// When the last process of an SMP kernel left (its CPUs' cycles summed up to then); null while
    /// work remains, and in a kernel of one CPU, whose core marks it itself.
    /// </summary>
    public CoreMark? WorkEnded { get; private set; }

    /// <summary>
    /// smp_init: the other cores of the platform come up in their idle loops, each with its run
    /// queue, its tick (when the boot CPU's is running) and its run queue lock; the kernel is then
    /// the SMP build. Done at boot, before the first process, and not timed.
    /// </summary>
    public void BringUpSecondaryCpus(IReadOnlyList<Core> cores)
    {
        ArgumentNullException.ThrowIfNull(cores);
        if (Smp || Current is not null || cores.Count < 2 || cores[0] != _platform.BootCore)
        {
            throw new InvalidOperationException("Secondary CPUs come up once, before any process, from the boot core's list of the platform's cores.");
        }
        const int FrameBytes = Sim.Models.Memory.PhysicalMemory.FrameBytes;
        if (cores.Count * KernelObjects.LineBytes > FrameBytes)
        {
            throw new ArgumentException($"The kernel runs on at most {FrameBytes / KernelObjects.LineBytes} CPUs.", nameof(cores));
        }
        ulong locks = Memory.AllocateFrame(); // the run queues' lock words, a cache line each (struct rq is cache-line aligned)
        _cpus[0] = new PerCpu(0, cores[0], _cpus[0].Idle, locks);
        _this = _cpus[0];
        for (int i = 1; i < cores.Count; i++)
        {
            var cpu = new PerCpu(i, cores[i], _ops.IdleLoop(), locks + (ulong)(i * KernelObjects.LineBytes));
            _cpus.Add(cpu);
            _text.AddCpu();
            cpu.Core.LoadCr3BeforeStart(_kernelSpace.Pml4);
            cpu.Core.Start(cpu.Idle, cpl: 0);
            if (_timerVector is { } vector)
            {
                _platform.Devices.ApicOf(i).StartPeriodicTimer(vector, _timerInitialCount);
            }
        }
        Sim.Engine.Statistics.StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel");
        _migrations = stats.Counter("migrations", "count", "processes pulled from one CPU's run queue to another's by balancing");
        _reschedules = stats.Counter("reschedule_ipis", "count", "reschedule IPIs sent to wake an idle CPU");
    }

    /// <summary>
    /// The per-CPU data of <paramref name="core"/>, which becomes this CPU for the trap being
    /// handled. A kernel of one CPU has one, whatever core object its traps come from (under a
    /// software monitor, the physical core the guest kernel is deprivileged on).
    /// </summary>
    private PerCpu Enter(Core core)
    {
        if (!Smp)
        {
            return _this;
        }
        foreach (PerCpu cpu in _cpus)
        {
            if (cpu.Core == core)
            {
                return _this = cpu;
            }
        }
        throw new InvalidOperationException($"Core {core.Path} is not one of the kernel's CPUs.");
    }

    /// <summary>
    /// <paramref name="p"/> becomes runnable (try_to_wake_up): on this CPU in a kernel of one CPU;
    /// on an SMP kernel on the CPU <see cref="WakeTarget"/> picks, under that run queue's lock, and
    /// an idle CPU other than the waker's is sent a reschedule IPI. <paramref name="path"/> is the
    /// waker's (null when the wake-up comes from a timer, whose interrupt then arrives at the
    /// target directly); <paramref name="first"/> puts it at the front of the queue.
    /// </summary>
    private void Wake(Process p, KernelPath? path, bool first = false)
    {
        PerCpu target = Smp ? WakeTarget(p, path is null ? null : _this) : _this;
        if (Smp && path is not null)
        {
            path.Execute(Op.SpinLock(DirectMap.Of(target.RunQueueLock))).Run(SmpRoutine.RemoteWakeup).Execute(Op.SpinUnlock(DirectMap.Of(target.RunQueueLock)));
        }
        bool wasIdle = target.IsIdle;
        if (first)
        {
            target.RunQueue.EnqueueFirst(p);
        }
        else
        {
            target.RunQueue.Enqueue(p);
        }
        if (Smp && wasIdle && (path is null || target != _this))
        {
            Kick(target, path);
        }
    }

    /// <summary>select_task_rq: the waker's CPU if it idles, else the CPU the process last ran on if it idles, else the first idle CPU, else the one it last ran on.</summary>
    private PerCpu WakeTarget(Process p, PerCpu? waker)
    {
        if (waker is { IsIdle: true })
        {
            return waker;
        }
        PerCpu last = _cpus[p.LastCpu];
        return last.IsIdle ? last : _cpus.FirstOrDefault(c => c.IsIdle) ?? last;
    }

    /// <summary>resched_task for an idle CPU: a reschedule IPI, sent from the waker's path, or arriving now when no CPU sends it (a timer's wake-up).</summary>
    private void Kick(PerCpu target, KernelPath? path)
    {
        _reschedules!.Increment();
        if (path is null)
        {
            _platform.Devices.ApicOf(target.Index).Receive(RescheduleVector, _platform.Sim.Now);
            return;
        }
        _ops.SendInterprocessorInterrupt(path, target.Index, RescheduleVector);
    }

    /// <summary>
    /// idle_balance: this CPU has nothing ready, so it pulls the process that waited last on the
    /// busy CPU with the most waiting (both run queues locked, in CPU order); null when no busy CPU
    /// has a process waiting.
    /// </summary>
    private Process? PullWork(KernelPath path)
    {
        PerCpu? busiest = null;
        foreach (PerCpu cpu in _cpus)
        {
            if (cpu != _this && HasWaiting(cpu) && (busiest is null || cpu.RunQueue.Count > busiest.RunQueue.Count))
            {
                busiest = cpu;
            }
        }
        if (busiest?.RunQueue.TakeLast(HeldByThrottle) is not { } p)
        {
            return null;
        }
        (PerCpu a, PerCpu b) = _this.Index < busiest.Index ? (_this, busiest) : (busiest, _this);
        path.Execute(Op.SpinLock(DirectMap.Of(a.RunQueueLock))).Execute(Op.SpinLock(DirectMap.Of(b.RunQueueLock)))
            .Run(SmpRoutine.LoadBalance)
            .Execute(Op.SpinUnlock(DirectMap.Of(b.RunQueueLock))).Execute(Op.SpinUnlock(DirectMap.Of(a.RunQueueLock)));
        _migrations!.Increment();
        return p;
    }

    /// <summary>Whether an idle CPU's tick or interrupt finds work to pull.</summary>
    private bool WorkToPull => Smp && _cpus.Any(c => c != _this && HasWaiting(c));

    /// <summary>A CPU that runs a process and has others waiting (nr_running of 2 or more): one an idle CPU may pull; a process placed on an idle CPU is that CPU's to run.</summary>
    private static bool HasWaiting(PerCpu cpu) => cpu.RunQueue.Current is not null && cpu.RunQueue.Count > 0;

    /// <summary>Whether another CPU still runs or holds a process that could wake one waiting here.</summary>
    private bool OtherCpusBusy => Smp && _cpus.Any(c => c != _this && !c.IsIdle);

    /// <summary>The last process has gone: every CPU's tick stops so that the simulation can end, and an SMP kernel marks the end with its CPUs' cycles summed.</summary>
    private void AllWorkDone(Core core)
    {
        foreach (PerCpu cpu in _cpus)
        {
            if (_timerVector is not null)
            {
                _platform.Devices.ApicOf(cpu.Index).Write(0x380, 0);
            }
        }
        if (!Smp)
        {
            return;
        }
        foreach (PerCpu cpu in _cpus)
        {
            cpu.Core.SettleIdleTime(); // the halted ones catch up to now; they idle from here on
        }
        WorkEnded = CoreMark.Sum(core.LocalTime, _cpus.Select(c => c.Core.Mark()));
    }
}
