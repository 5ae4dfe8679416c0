using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>OS-level virtualization: what a container adds to the paths that do it (<see cref="ContainerConfiguration"/>).</summary>
public sealed partial class LinuxKernel
{
    private readonly List<Container> _containers = [];
    private readonly Dictionary<ulong, (Container Container, bool Cache)> _pageOwner = []; // the container charged for each user or page cache frame; looked up by frame only, never iterated
    private Counter? _namespaceLookups;
    private Counter? _bridgedFrames;
    private Counter? _natFrames; // with a container behind NAT
    private Counter? _cgroupCharges;
    private Counter? _oomKills;
    private Counter? _throttledPeriods;
    private ulong _periodMicroseconds; // of the current CPU bandwidth period
    private int _nextPinnedCpu;        // where the next container with a quota and no cpuset is pinned from

    /// <summary>The CPU bandwidth period: the CFS default of 100 ms (cpu.cfs_period_us = 100000).</summary>
    public const ulong CpuPeriodMicroseconds = 100_000;

    /// <summary>The containers, in order of creation; empty when the kernel runs none.</summary>
    public IReadOnlyList<Container> Containers => _containers;

    /// <summary>
    /// A new container of the kernel (set up at boot, untimed): processes started in it
    /// (<see cref="Start"/>) and their descendants run in it. Its statistics are added to the
    /// kernel's container counters (vmN.kernel.container or host.kernel.container).
    /// </summary>
    public Container AddContainer(ContainerConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.Validate();
        if (_containers.Count == 0)
        {
            StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel.container");
            _namespaceLookups = stats.Counter("namespace_lookups", "count", "namespace steps: a pid translated at one level, a mount or network namespace consulted");
            _cgroupCharges = stats.Counter("cgroup_charges", "count", "pages charged to (or uncharged from) a memory cgroup, each at every level");
            _oomKills = stats.Counter("oom_kills", "count", "processes killed because a page would have taken their container over its memory limit and reclaim could not make room");
            _throttledPeriods = stats.Counter("throttled_periods", "count", "bandwidth periods in which a container used up its CPU quota and was throttled (cpu.stat nr_throttled)");
            _bridgedFrames = stats.Counter("bridged_frames", "count", "containers' frames that crossed their veth pair and the host's bridge, either way");
        }
        if (configuration.Network is ContainerNetwork.Bridge or ContainerNetwork.Nat && _net is not null)
        {
            _text.LayOutBridgeRoutines(); // a kernel without a network (started before its containers) never runs them
        }
        if (configuration.Network == ContainerNetwork.Nat && _natFrames is null)
        {
            _natFrames = _platform.Sim.Stats.Group(_platform.Name + ".kernel.container").Counter("nat_frames", "count", "containers' frames that went through connection tracking, the NAT rewrite and the FORWARD chain, either way");
            if (_net is not null)
            {
                _text.LayOutNatRoutines();
            }
        }
        CountReclaim();
        var container = new Container(_containers.Count, configuration, CpusetOf(configuration))
        {
            ConntrackEntry = configuration.Network == ContainerNetwork.Nat ? Memory.AllocateContiguous(KernelObjects.LineBytes) : 0,
        };
        _containers.Add(container);
        // What the container costs the host in memory, as its memory cgroup counts it (docs/virtualization.md, "Containers' memory").
        StatGroup memory = _platform.Sim.Stats.Group($"{(_platform.Name == "host" ? "" : _platform.Name + ".")}ct{container.Index}.memory");
        memory.Probe("peak_charged_bytes", "bytes", "the most the container's memory cgroup held at once (memory.max_usage_in_bytes): its processes' pages and the page cache charged to it", () => (long)container.PeakChargedBytes);
        memory.Probe("peak_cache_bytes", "bytes", "the most page cache charged to the container at once", () => (long)container.PeakCacheBytes);
        memory.Probe("charged_bytes", "bytes", "what the container's memory cgroup holds at the end (memory.usage_in_bytes)", () => (long)container.ChargedBytes);
        memory.Probe("cache_bytes", "bytes", "the page cache charged to the container at the end (memory.stat's cache)", () => (long)container.CacheBytes);
        if (_swap is not null)
        {
            memory.Probe("major_faults", "count", "faults of the container's processes that waited for a page read from swap (memory.stat's pgmajfault)", () => container.MajorFaults);
        }
        if (_net is not null && !_net.TryGet(ServicePort(container), out _))
        {
            _net.Bind(ServicePort(container), Memory); // its service's port published as it starts (docker run -p): requests that come before the service reads wait in the socket
        }
        return container;
    }

    /// <summary>
    /// The CPUs a new container may run on: its cpuset, which must name CPUs the kernel has; or,
    /// with a quota, as many CPUs as the quota needs (rounded up), given to the containers in turn
    /// from where the last one's ended, as a planner pins containers to cores; or every CPU.
    /// </summary>
    private ulong CpusetOf(ContainerConfiguration configuration)
    {
        int cpus = _cpus.Count;
        if (configuration.CpuQuota is { } quota && quota > cpus)
        {
            throw new ArgumentException($"A CPU quota of {quota} CPUs is more than the kernel's {cpus}.", nameof(configuration));
        }
        if (configuration.Cpuset is { } set)
        {
            if (set.FirstOrDefault(c => c >= cpus, -1) is var missing and >= 0)
            {
                throw new ArgumentException($"The cpuset names CPU {missing}, and the kernel has CPUs 0 to {cpus - 1}.", nameof(configuration));
            }
            return set.Aggregate(0UL, (mask, c) => mask | (1UL << c));
        }
        if (configuration.CpuQuota is not { } q || cpus == 1)
        {
            return OnlineCpus;
        }
        ulong allowed = 0;
        for (int i = 0; i < (int)Math.Ceiling(q); i++)
        {
            allowed |= 1UL << ((_nextPinnedCpu + i) % cpus);
        }
        _nextPinnedCpu = (_nextPinnedCpu + (int)Math.Ceiling(q)) % cpus;
        return allowed;
    }

    /// <summary>pid_nr_ns and alloc_pid: a pid taken or given is translated at every pid-namespace level of the current process's container.</summary>
    private void PidNamespaces(KernelPath path) => NamespaceSteps(path, Current?.Container?.Configuration.PidNamespaceLevels ?? 0);

    /// <summary>A mount or network namespace consulted (path lookup, socket calls) by a process in a container.</summary>
    private void OneNamespace(KernelPath path) => NamespaceSteps(path, Current?.Container is null ? 0 : 1);

    private void NamespaceSteps(KernelPath path, int steps)
    {
        if (steps > 0)
        {
            path.Run(KernelRoutine.NamespaceLookup, times: steps);
            _namespaceLookups!.Add(steps);
        }
    }

    /// <summary>
    /// A frame of <paramref name="container"/>'s crosses its veth pair and the bridge, out or in,
    /// when the container is on a bridged network; behind Docker's NAT, also connection tracking
    /// (the bucket's head read, the entry read and its timeout written), the rewrite and the FORWARD
    /// chain.
    /// </summary>
    private void Bridge(KernelPath path, Container? container, BridgeRoutine routine)
    {
        if (container is not { Configuration.Network: ContainerNetwork.Bridge or ContainerNetwork.Nat })
        {
            return;
        }
        path.Run(routine);
        _bridgedFrames!.Increment();
        if (container.Configuration.Network == ContainerNetwork.Nat)
        {
            path.Run(NatRoutine.ConntrackLookup).Load(_text.Nat.LockOf(NatRoutine.ConntrackLookup)).Load(container.ConntrackEntry).Store(container.ConntrackEntry)
                .Run(NatRoutine.NatRewrite).Run(NatRoutine.ForwardFilter);
            _natFrames!.Increment();
        }
    }

    /// <summary>The container whose service port <paramref name="port"/> is, or null (a process in no container, or no such port).</summary>
    private Container? ContainerOfPort(ushort port)
    {
        int index = port - FirstServicePort;
        return index >= 0 && index < _containers.Count ? _containers[index] : null;
    }

    /// <summary>The CPU cgroups' accounting of a context switch or tick, at every level of the current process's container.</summary>
    private void CgroupCpuAccounting(KernelPath path)
    {
        if (Current?.Container is { } container)
        {
            path.Run(KernelRoutine.CgroupAccounting, times: container.Configuration.CgroupLevels);
        }
    }

    /// <summary>
    /// mem_cgroup_charge (a process's page) or mem_cgroup_cache_charge (a page cache page, if
    /// <paramref name="cache"/>): a new page of <paramref name="p"/> is charged at every level of its
    /// container. A charge that would take the container over its limit first reclaims from the
    /// container's own LRU lists (<see cref="ReclaimPass"/>), as __mem_cgroup_try_charge
    /// does in 2.6.32's mm/memcontrol.c, and tries again; only after
    /// <see cref="MemCgroupReclaimRetries"/> passes more that freed nothing does it fail: false,
    /// and the process is to be killed. <see cref="OwnPage"/> records the frame's owner once it is
    /// allocated. In a kernel with swap, reclaim also sends the container's anonymous pages to swap
    /// if it may swap; a charge that finds its pages still being written waits for them when
    /// <paramref name="mayWait"/> (a fault: false, with the process asleep, to retry later), and
    /// otherwise (a kernel path that cannot sleep in the model) goes over the limit by at most
    /// the pages those writes will free.
    /// </summary>
    private bool TryChargePage(KernelPath path, Process p, bool cache = false, int pages = 1, bool mayWait = false)
    {
        if (p.Container is not { } container)
        {
            return true;
        }
        path.Run(KernelRoutine.CgroupAccounting, times: container.Configuration.CgroupLevels);
        _cgroupCharges!.Increment();
        if (container.Configuration.MemoryLimitBytes is { } limit)
        {
            int fruitless = 0;
            while (container.ChargedBytes + ((ulong)pages * PhysicalMemory.FrameBytes) > limit)
            {
                bool enoughInFlight = mayWait && container.Writeback >= SwapClusterMax; // as in TryUserPage: no more writes while a pass's worth is on its way
                if (!enoughInFlight && ReclaimPass(path, [container.Lru], container.Configuration.MaySwap ? [container.AnonymousLru] : []) > 0)
                {
                    continue;
                }
                if (container.Writeback > 0 && mayWait)
                {
                    _writebackWaits!.Increment();
                    WaitOn(_memoryWaiters, p);
                    return false;
                }
                if (container.ChargedBytes + ((ulong)pages * PhysicalMemory.FrameBytes) <= limit + ((ulong)container.Writeback * PhysicalMemory.FrameBytes))
                {
                    break; // a kernel path (a read's page cache) cannot sleep for the writes, as Linux's would: it charges against the pages they will free
                }
                if (++fruitless > MemCgroupReclaimRetries)
                {
                    container.OutOfMemory = pages == 1; // a huge page's charge that fails falls back to small pages; only a small page's kills
                    return false;
                }
            }
        }
        container.Charge(cache, pages);
        return true;
    }

    /// <summary>MEM_CGROUP_RECLAIM_RETRIES (2.6.32's mm/memcontrol.c): the reclaim passes that may free nothing before a charge over the limit gives up.</summary>
    private const int MemCgroupReclaimRetries = 5;

    /// <summary>A charge given back before its page was allocated: the fault that made it waits for memory, and will charge again.</summary>
    private void UnchargeUnallocated(KernelPath path, Process p)
    {
        if (p.Container is { } container)
        {
            path.Run(KernelRoutine.CgroupAccounting, times: container.Configuration.CgroupLevels);
            _cgroupCharges!.Increment();
            container.Uncharge(cache: false);
        }
    }

    /// <summary>The container charged for <paramref name="frame"/>, if any.</summary>
    private Container? OwnerOf(ulong frame) => _pageOwner.TryGetValue(frame, out (Container Container, bool Cache) owner) ? owner.Container : null;

    /// <summary>The charged page's frame belongs to <paramref name="p"/>'s container (as page cache if <paramref name="cache"/>), which is uncharged when the frame is freed.</summary>
    private void OwnPage(Process p, ulong frame, bool cache = false)
    {
        if (p.Container is { } container)
        {
            _pageOwner[frame] = (container, cache);
        }
    }

    /// <summary>A user or page cache page freed is uncharged from the container that was charged for it, at every level.</summary>
    private void UnchargePage(KernelPath path, ulong frame)
    {
        if (_pageOwner.Remove(frame, out (Container Container, bool Cache) owner))
        {
            path.Run(KernelRoutine.CgroupAccounting, times: owner.Container.Configuration.CgroupLevels);
            _cgroupCharges!.Increment();
            owner.Container.Uncharge(owner.Cache);
        }
    }

    /// <summary>Pages freed together (a huge page's) uncharged from the containers charged for them, the accounting run once per container.</summary>
    private void UnchargePages(KernelPath path, IReadOnlyList<ulong> frames)
    {
        Container? accounted = null;
        foreach (ulong frame in frames)
        {
            if (_pageOwner.Remove(frame, out (Container Container, bool Cache) owner))
            {
                if (owner.Container != accounted)
                {
                    path.Run(KernelRoutine.CgroupAccounting, times: owner.Container.Configuration.CgroupLevels);
                    _cgroupCharges!.Increment();
                    accounted = owner.Container;
                }
                owner.Container.Uncharge(owner.Cache);
            }
        }
    }

    /// <summary>The exit status of a process a fault kills: SIGKILL (137) from the OOM killer, SIGFPE (136), or SIGSEGV (139).</summary>
    private int FatalFaultStatus(Process p, ExceptionVector vector) =>
        p.Container is { OutOfMemory: true } ? OutOfMemoryStatus(p) : vector == ExceptionVector.DivideError ? 136 : 139;

    /// <summary>
    /// The OOM killer's SIGKILL (status 137) for <paramref name="p"/>, whose charge failed: the
    /// process that asked for the page dies (where mem_cgroup_out_of_memory picks the container's
    /// largest process by its badness, the model kills the one that asked).
    /// </summary>
    private int OutOfMemoryStatus(Process p)
    {
        p.Container!.OutOfMemory = false;
        _oomKills!.Increment();
        return 137;
    }

    /// <summary>
    /// CFS bandwidth control, sampled at the tick: each CPU's tick charges its time to the current
    /// process's container (so a container running on three CPUs uses three ticks' worth), which is throttled (its runnable processes held off the run queue)
    /// once it has used its quota of the period; the current process leaves the CPU at once if
    /// the tick came over user code, or else on its way back to user mode
    /// (<see cref="LeaveIfThrottled"/>). At each period's end (counted by the first CPU's ticks)
    /// every container's use starts again from zero and the throttled ones' processes rejoin the
    /// run queues. Returns whether the current process left the CPU.
    /// </summary>
    private bool CpuBandwidthTick(ulong tickMicroseconds, bool preemptible)
    {
        if (_containers.Count == 0)
        {
            return false;
        }
        bool left = false;
        if (Current?.Container is { Configuration.CpuQuota: { } quota } container)
        {
            container.UsedMicroseconds += tickMicroseconds;
            if (!container.IsThrottled && container.UsedMicroseconds >= (ulong)(quota * CpuPeriodMicroseconds))
            {
                container.IsThrottled = true;
                _throttledPeriods!.Increment();
            }
            left = preemptible && LeaveIfThrottled(Current);
        }
        if (_this.Index > 0)
        {
            return left; // the period's timer runs on the first CPU: every CPU's tick charges, one advances the period
        }
        _periodMicroseconds += tickMicroseconds;
        if (_periodMicroseconds >= CpuPeriodMicroseconds)
        {
            _periodMicroseconds = 0;
            foreach (Container c in _containers)
            {
                c.UsedMicroseconds = 0;
                c.IsThrottled = false;
                while (c.Throttled.TryDequeue(out Process? p))
                {
                    Wake(p, path: null);
                }
            }
        }
        return left;
    }

    /// <summary>The running process of a throttled container leaves the CPU (its state Ready, held with its container); true if it did.</summary>
    private static bool LeaveIfThrottled(Process p)
    {
        if (p is not { State: ProcessState.Running, Container.IsThrottled: true })
        {
            return false;
        }
        p.State = ProcessState.Ready;
        p.Container.Throttled.Enqueue(p);
        return true;
    }

    /// <summary>Whether <paramref name="p"/>, about to run, belongs to a throttled container: then it waits with the container's other held processes.</summary>
    private static bool HeldByThrottle(Process p)
    {
        if (p.Container is not { IsThrottled: true } container)
        {
            return false;
        }
        container.Throttled.Enqueue(p);
        return true;
    }

    /// <summary>Some container is throttled with processes waiting to run: the core idles until the period ends.</summary>
    private bool AnyThrottled => _containers.Exists(c => c.Throttled.Count > 0);

    /// <summary>
    /// A time slice refilled for <paramref name="p"/>, weighed by the CPU cgroups' shares as CFS
    /// group scheduling weighs it. A container's shares are divided among its runnable processes
    /// on every CPU (calc_group_shares, kernel/sched/fair.c, gives a group on a CPU shares × its
    /// load there over its load on all CPUs, and its tasks divide that); a process outside a
    /// container weighs a nice-0 task's <see cref="ContainerConfiguration.DefaultShares"/>. The
    /// heaviest of the processes on this CPU's run queue gets the full slice and the others their
    /// weight's part of it (at least a tick), so that in the round robin the CPU time of the
    /// processes that compete for the CPU goes as their weights, as CFS's sched_slice makes it.
    /// Without containers, or with equal weights, every slice is the full one.
    /// </summary>
    private int SliceFor(Process p)
    {
        if (_containers.Count == 0)
        {
            return SliceTicks;
        }
        int[] runnable = new int[_containers.Count];
        foreach (PerCpu cpu in _cpus)
        {
            foreach (Process q in cpu.RunQueue.Waiting.Append(cpu.RunQueue.Current).OfType<Process>())
            {
                if (q.Container is { } c)
                {
                    runnable[c.Index]++;
                }
            }
        }
        double Weight(Process q) => q.Container is { } c ? (double)c.Shares / Math.Max(1, runnable[c.Index]) : ContainerConfiguration.DefaultShares;
        double heaviest = _this.RunQueue.Waiting.Select(Weight).Append(Weight(p)).Max();
        return Math.Max(1, (int)Math.Round(SliceTicks * Weight(p) / heaviest));
    }

    /// <summary>A process of a container exited: the container's end is where the core stands when its last one goes (on an SMP kernel, every CPU's cycles summed up to then).</summary>
    private void LeaveContainer(Core core, Process dying)
    {
        if (dying.Container is { } container && --container.LiveProcesses == 0)
        {
            container.Ended = Smp ? CoreMark.Sum(core.LocalTime, _cpus.Select(c => c.Core.Mark())) : core.Mark();
        }
    }
}
