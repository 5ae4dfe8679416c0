using Sim.Models.Cpu;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel on several CPUs: per-CPU data (<see cref="PerCpu"/>), the CPU whose trap is being
/// handled (<c>this_cpu</c>), where a woken or new process runs, the reschedule IPI that wakes an
/// idle CPU, idle balancing that pulls work to a CPU with none, and the run queues' spinlocks.
/// Pages a process touches first come from its CPU's NUMA node. A kernel of one CPU is the
/// uniprocessor build: no spinlocks, no IPIs, no balancing, and its paths are exactly those of
/// the one-CPU model.
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

    /// <summary>The cross-CPU call's vector, which TLB shootdowns use: CALL_FUNCTION_VECTOR, 0xfc (arch/x86/include/asm/irq_vectors.h).</summary>
    public const int CallFunctionVector = 0xFC;

    /// <summary>The most CPUs the kernel runs on: a cache line of per-CPU words fills one frame, and an address space's CPU mask is one 64-bit word.</summary>
    public const int MostCpus = 64;

    private readonly List<PerCpu> _cpus = [];
    private PerCpu _this; // the CPU whose trap is being handled, as Linux's this_cpu
    private uint _timerInitialCount;
    private Sim.Engine.Statistics.Counter? _migrations;
    private Sim.Engine.Statistics.Counter? _reschedules;
    private Sim.Engine.Statistics.Counter? _shootdowns;
    private Sim.Engine.Statistics.Histogram? _shootdownTargets;
    private Sim.Engine.Statistics.Counter? _pvFlushes;

    /// <summary>The kernel's CPUs: the boot CPU, and the others once <see cref="BringUpSecondaryCpus"/> has run.</summary>
    public IReadOnlyList<PerCpu> Cpus => _cpus;

    private bool Smp => _cpus.Count > 1;

    /// <summary>The kernel's CPUs as a mask (bit n for CPU n): cpu_online_mask.</summary>
    private ulong OnlineCpus => _cpus.Count == MostCpus ? ulong.MaxValue : (1UL << _cpus.Count) - 1;

    /// <summary>
    /// When the last process of an SMP kernel left (its CPUs' cycles summed up to then), once its
    /// exit path has run; null while work remains, and in a kernel of one CPU, whose core marks it
    /// itself at the same point (docs/machine.md, "The end of the work").
    /// </summary>
    public CoreMark? WorkEnded { get; private set; }

    /// <summary>
    /// smp_init: the other CPUs of the platform (a machine's cores, a VM's virtual CPUs) come up
    /// in their idle loops, each with its run queue, its tick (when the boot CPU's is running) and
    /// its run queue lock; the kernel is then the SMP build. Done at boot, before the first
    /// process, and not timed.
    /// </summary>
    public void BringUpSecondaryCpus(IPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        IReadOnlyList<Core> cores = platform.Cores;
        if (Smp || Current is not null || cores.Count < 2 || platform != _platform)
        {
            throw new InvalidOperationException("Secondary CPUs come up once, before any process, on the platform the kernel booted on, which has several CPUs.");
        }
        if (cores.Count > MostCpus)
        {
            throw new ArgumentException($"The kernel runs on at most {MostCpus} CPUs.", nameof(platform));
        }
        ulong locks = Memory.AllocateFrame(); // the run queues' lock words, a cache line each (struct rq is cache-line aligned)
        ulong acks = Memory.AllocateFrame();  // each CPU's flush acknowledgement count, a line each
        ulong zoneLock = Memory.AllocateFrame(); // the zone's lock, on a line of its own
        // kvm_guest_init: with PV TLB flush offered (and steal time, pv_tlb_flush_supported), each
        // CPU's struct kvm_steal_time, a line each, is registered with the host, and the
        // shootdown path becomes kvm_flush_tlb_multi.
        ulong? stealTime = (platform.Paravirt & (ParavirtFeatures.PvTlbFlush | ParavirtFeatures.StealTime)) == (ParavirtFeatures.PvTlbFlush | ParavirtFeatures.StealTime)
            ? Memory.AllocateFrame() : null;
        _cpus[0] = new PerCpu(0, cores[0], _cpus[0].Idle, locks) { FlushAcks = acks, LoadedMm = _cpus[0].LoadedMm, Pages = new PerCpuPages(Memory), StealTime = stealTime };
        _this = _cpus[0];
        for (int i = 1; i < cores.Count; i++)
        {
            ulong line = (ulong)(i * KernelObjects.LineBytes);
            var cpu = new PerCpu(i, cores[i], _ops.IdleLoop(), locks + line)
            {
                FlushAcks = acks + line, Node = platform.SocketOfCpu(i), Pages = new PerCpuPages(Memory), StealTime = stealTime + line,
            };
            _cpus.Add(cpu);
            _text.AddCpu();
            cpu.Core.LoadCr3BeforeStart(_kernelSpace.Pml4);
            cpu.Core.Start(cpu.Idle, cpl: 0);
            if (_timerVector is { } vector)
            {
                _platform.Devices.ApicOf(i).StartPeriodicTimer(vector, _timerInitialCount);
            }
        }
        foreach (PerCpu cpu in _cpus)
        {
            if (cpu.StealTime is { } area)
            {
                platform.RegisterStealTime(cpu.Index, area);
            }
        }
        Sim.Engine.Statistics.StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel");
        _migrations = stats.Counter("migrations", "count", "processes pulled from one CPU's run queue to another's by balancing");
        _reschedules = stats.Counter("reschedule_ipis", "count", "reschedule IPIs sent to wake an idle CPU");
        _shootdowns = stats.Counter("tlb_shootdowns", "count", "changes of a mapping that other CPUs had to flush, by IPI");
        _shootdownTargets = stats.Histogram("tlb_shootdown_cpus", "CPUs", "how many other CPUs each TLB shootdown interrupted");
        _pvFlushes = stealTime is null ? null
            : stats.Counter("pv_tlb_flush_requests", "count", "CPUs a TLB shootdown left to the hypervisor to flush, with no IPI, because it had preempted them (KVM's PV TLB flush)");
        _pages.BecomeSmp(zoneLock, stats.Counter("zone_batches", "count", "batches of pages moved between a CPU's free lists and the zone, under the zone lock"), _cpus, () => _this);
    }

    /// <summary>
    /// Makes the per-CPU data of <paramref name="core"/> this CPU for the trap being handled. A
    /// kernel of one CPU has one, whatever core object its traps come from (under a
    /// software monitor, the physical core the guest kernel is deprivileged on).
    /// </summary>
    private void Enter(Core core)
    {
        if (!Smp)
        {
            return;
        }
        foreach (PerCpu cpu in _cpus)
        {
            if (cpu.Core == core)
            {
                _this = cpu;
                return;
            }
        }
        throw new InvalidOperationException($"Core {core.Path} is not one of the kernel's CPUs.");
    }

    /// <summary>
    /// <paramref name="p"/> becomes runnable (try_to_wake_up): on this CPU in a kernel of one CPU;
    /// on an SMP kernel on the CPU <see cref="WakeTarget"/> picks, under that run queue's lock, and
    /// an idle CPU other than the waker's is sent a reschedule IPI. <paramref name="path"/> is the
    /// waker's (null when the wake-up comes from a timer, whose interrupt then arrives at the
    /// target directly).
    /// </summary>
    private void Wake(Process p, KernelPath? path)
    {
        PerCpu target = Smp ? WakeTarget(p, path is null ? null : _this) : _this;
        if (Smp && path is not null)
        {
            path.SpinLockIrqSave(target.RunQueueLock).Run(AddedRoutine.RemoteWakeup).SpinUnlockIrqRestore(target.RunQueueLock);
        }
        bool wasIdle = target.IsIdle;
        target.RunQueue.Enqueue(p);
        if (Smp && wasIdle && (path is null || target != _this))
        {
            Kick(target, path);
        }
    }

    /// <summary>
    /// sched_setaffinity for the calling process (pid 0; the model takes the mask as the word the
    /// user's buffer holds, the second argument): the process may run only on the mask's CPUs,
    /// within its cpuset and the CPUs the kernel has; EINVAL when none is left (cpumask_intersects
    /// fails), ESRCH for another pid (the model looks none up). A process no longer allowed on
    /// the CPU it runs on moves to an allowed one at once (set_cpus_allowed_ptr's migration), as a
    /// wake-up there.
    /// </summary>
    private void SetAffinity(Core core, KernelPath path, Process current)
    {
        const long Esrch = -3;
        IProgram program = current.Program;
        ulong mask = (ulong)program.PendingSecondArgument & OnlineCpus;
        if (program.PendingArgument != 0)
        {
            program.SyscallReturned(Esrch);
            return;
        }
        if ((mask & current.CpusetCpus) == 0)
        {
            program.SyscallReturned(Einval);
            return;
        }
        path.Run(AddedRoutine.SetAffinity);
        current.Affinity = mask;
        program.SyscallReturned(0);
        if (!current.MayRunOn(_this.Index))
        {
            current.State = ProcessState.Ready;
            Wake(current, path);
            SwitchToNext(core, path);
        }
    }

    /// <summary>
    /// sched_getaffinity for the calling process (pid 0): the CPUs it may run on, its mask within
    /// its cpuset and the kernel's CPUs; ESRCH for another pid. The model returns the mask as the
    /// call's value instead of copying it to the user's buffer, as its sched_setaffinity takes it.
    /// What libgomp and sysconf(_SC_NPROCESSORS_ONLN)'s callers count to size a thread team.
    /// </summary>
    private void GetAffinity(KernelPath path, Process current)
    {
        const long Esrch = -3;
        if (current.Program.PendingArgument != 0)
        {
            current.Program.SyscallReturned(Esrch);
            return;
        }
        _text.LayOutAddedRoutines(); // a kernel of one CPU lays them out at first use
        path.Run(AddedRoutine.GetAffinity);
        current.Program.SyscallReturned((long)(current.Affinity & current.CpusetCpus & OnlineCpus));
    }

    /// <summary>
    /// select_task_rq among the CPUs the process may run on (its cpuset): the waker's CPU if it
    /// idles, else the CPU the process last ran on if it idles, else the first idle CPU, else the
    /// one it last ran on (or, when that is not allowed, the first allowed).
    /// </summary>
    private PerCpu WakeTarget(Process p, PerCpu? waker)
    {
        if (waker is { IsIdle: true } && p.MayRunOn(waker.Index))
        {
            return waker;
        }
        PerCpu last = _cpus[p.LastCpu];
        bool lastAllowed = p.MayRunOn(last.Index);
        return lastAllowed && last.IsIdle ? last : IdleCpuFor(p) ?? (lastAllowed ? last : _cpus.First(c => p.MayRunOn(c.Index)));
    }

    /// <summary>The first idle CPU <paramref name="p"/> may run on, or null.</summary>
    private PerCpu? IdleCpuFor(Process p) => _cpus.FirstOrDefault(c => c.IsIdle && p.MayRunOn(c.Index));

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
    /// busy CPU with the most waiting, among those its cpuset allows here (both run queues locked,
    /// in CPU order); null when no busy CPU has such a process waiting.
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
        if (busiest?.RunQueue.TakeLast(HeldByThrottle, p => p.MayRunOn(_this.Index)) is not { } p)
        {
            return null;
        }
        (PerCpu a, PerCpu b) = _this.Index < busiest.Index ? (_this, busiest) : (busiest, _this);
        path.SpinLockIrqSave(a.RunQueueLock).SpinLock(b.RunQueueLock).Run(AddedRoutine.LoadBalance).SpinUnlock(b.RunQueueLock).SpinUnlockIrqRestore(a.RunQueueLock);
        _migrations!.Increment();
        return p;
    }

    /// <summary>Whether an idle CPU's tick or interrupt finds work to pull (a waiting process its cpuset allows here).</summary>
    private bool WorkToPull => Smp && _cpus.Any(c => c != _this && HasWaiting(c) && c.RunQueue.Waiting.Any(p => p.MayRunOn(_this.Index)));

    /// <summary>A CPU that runs a process and has others waiting (nr_running of 2 or more): one an idle CPU may pull; a process placed on an idle CPU is that CPU's to run.</summary>
    private static bool HasWaiting(PerCpu cpu) => cpu.RunQueue.Current is not null && cpu.RunQueue.Count > 0;

    /// <summary>Whether another CPU still runs or holds a process that could wake one waiting here.</summary>
    private bool OtherCpusBusy => Smp && _cpus.Any(c => c != _this && !c.IsIdle);

    /// <summary>The last process has gone: every CPU's tick stops so that the simulation can end; the end is marked once its exit path has run (<see cref="MarkWorkEnded"/>).</summary>
    private void AllWorkDone(Core core)
    {
        if (_timerVector is not null)
        {
            foreach (PerCpu cpu in _cpus)
            {
                _platform.Devices.ApicOf(cpu.Index).Write(0x380, 0); // the timer's initial count to 0 stops it
            }
        }
        _allWorkDone = Smp;
    }

    private bool _allWorkDone; // an SMP kernel's last process has entered its exit path

    /// <summary>
    /// The last process's exit path has run on <paramref name="core"/>, which has nothing left:
    /// an SMP kernel marks the end there, as a kernel of one CPU's core marks it, with its CPUs'
    /// cycles summed, the halted ones idle up to this core's time (which runs ahead of the event
    /// queue's).
    /// </summary>
    private void MarkWorkEnded(Core core)
    {
        if (!_allWorkDone || WorkEnded is not null)
        {
            return;
        }
        foreach (PerCpu cpu in _cpus)
        {
            cpu.Core.SettleIdleTime(until: core.LocalTime);
        }
        WorkEnded = CoreMark.Sum(core.LocalTime, _cpus.Select(c => c.Core.Mark()));
    }

    /// <summary>switch_mm: this CPU loads <paramref name="mm"/>'s page tables, leaving the previous address space's CPU mask.</summary>
    private void LoadAddressSpace(KernelPath path, MemoryDescriptor mm)
    {
        _ops.SwitchAddressSpace(path, mm.Space.Pml4);
        Loaded(mm);
    }

    /// <summary>This CPU now has <paramref name="mm"/>'s tables loaded: it joins that address space's CPU mask and leaves the previous one's.</summary>
    private void Loaded(MemoryDescriptor mm)
    {
        ulong me = 1UL << _this.Index;
        if (_this.LoadedMm is { } previous)
        {
            previous.ActiveCpus &= ~me;
        }
        mm.ActiveCpus |= me;
        _this.LoadedMm = mm;
    }

    /// <summary>
    /// <paramref name="pages"/> of <paramref name="mm"/> flushed wherever their translations may be:
    /// on this CPU if it has the address space loaded (a change made for another process, by
    /// khugepaged or reclaim), and on the others that have (<see cref="FlushOtherCpus"/>).
    /// </summary>
    private void FlushEverywhere(KernelPath path, MemoryDescriptor mm, List<ulong> pages)
    {
        if ((mm.ActiveCpus & (1UL << _this.Index)) != 0)
        {
            foreach (ulong va in pages)
            {
                _ops.FlushTlbPage(path, va);
            }
        }
        FlushOtherCpus(path, mm, pages);
    }

    /// <summary>
    /// flush_tlb_others after a mapping of <paramref name="mm"/> changed (its <paramref name="pages"/>
    /// unmapped here and flushed on this CPU): every other CPU in its mask gets the request and a
    /// call-function IPI, and this CPU waits, interruptibly, until each has flushed and acknowledged
    /// (smp_call_function_many with wait). The cost grows with the CPUs interrupted: one IPI each,
    /// and the wait for the slowest.
    /// </summary>
    private void FlushOtherCpus(KernelPath path, MemoryDescriptor mm, List<ulong> pages)
    {
        if (!Smp || pages.Count == 0)
        {
            return;
        }
        ulong others = mm.ActiveCpus & ~(1UL << _this.Index);
        if (others == 0)
        {
            return;
        }
        ulong expected = _platform.ReadWord(_this.FlushAcks);
        int interrupted = 0;
        foreach (PerCpu cpu in _cpus)
        {
            if ((others & (1UL << cpu.Index)) != 0 && !FlushLeftToHypervisor(path, cpu))
            {
                cpu.FlushRequests.Enqueue((mm, pages, _this.FlushAcks));
                _ops.SendInterprocessorInterrupt(path, cpu.Index, CallFunctionVector);
                expected++;
                interrupted++;
            }
        }
        if (interrupted == 0)
        {
            return;
        }
        _shootdowns!.Increment();
        _shootdownTargets!.Record(interrupted);
        path.Execute(Op.SpinUntil(DirectMap.Of(_this.FlushAcks), expected));
    }

    /// <summary>
    /// KVM's PV TLB flush (kvm_flush_tlb_multi, arch/x86/kernel/kvm.c): the preempted byte of
    /// <paramref name="cpu"/>'s steal-time area is read, and if the host has descheduled it while
    /// it could run, KVM_VCPU_FLUSH_TLB is set there with a locked compare-and-exchange and it
    /// gets no IPI: the host flushes its TLB before it enters the guest again, and the asker does
    /// not wait for it. A halted CPU is not preempted (KVM sets the byte only for one put while
    /// runnable) and gets its IPI. False without PV TLB flush.
    /// </summary>
    private bool FlushLeftToHypervisor(KernelPath path, PerCpu cpu)
    {
        if (cpu.StealTime is not { } area)
        {
            return false;
        }
        ulong preempted = area + KvmStealTime.PreemptedOffset;
        path.Execute(Op.Load(DirectMap.Of(preempted)));
        ulong state = _platform.ReadWord(preempted);
        if ((state & KvmStealTime.Preempted) == 0)
        {
            return false;
        }
        path.Execute(Op.Atomic(DirectMap.Of(preempted)));
        _platform.WriteWord(preempted, state | KvmStealTime.FlushTlb);
        _pvFlushes!.Increment();
        return true;
    }

    /// <summary>
    /// The call-function IPI's handler (flush_tlb_func): each request's pages are flushed if this
    /// CPU still has that address space loaded (otherwise its TLB holds nothing of it that matters
    /// here), and the request acknowledged with a locked add on the asker's word.
    /// </summary>
    private void FlushRequested(KernelPath path)
    {
        while (_this.FlushRequests.TryDequeue(out (MemoryDescriptor Mm, List<ulong> Pages, ulong Ack) request))
        {
            path.Run(AddedRoutine.FlushTlbFunction);
            if (_this.LoadedMm == request.Mm)
            {
                foreach (ulong page in request.Pages)
                {
                    _ops.FlushTlbPage(path, page);
                }
            }
            path.Execute(Op.AtomicAdd(DirectMap.Of(request.Ack), 1));
        }
    }
}
