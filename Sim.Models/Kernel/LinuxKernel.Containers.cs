using Sim.Engine.Statistics;
using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>OS-level virtualization: what a container adds to the paths that do it (<see cref="ContainerConfiguration"/>).</summary>
public sealed partial class LinuxKernel
{
    private ContainerConfiguration? _containers;
    private Counter? _namespaceLookups;
    private Counter? _cgroupCharges;
    private Counter? _oomKills;
    private ulong _chargedBytes;
    private bool _outOfMemory;

    /// <summary>Puts the kernel's processes in one container (at boot, before the first process starts).</summary>
    public void EnableContainers(ContainerConfiguration containers)
    {
        ArgumentNullException.ThrowIfNull(containers);
        containers.Validate();
        if (Current is not null)
        {
            throw new InvalidOperationException("Containers are set up before the first process starts.");
        }
        _containers = containers;
        StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel.container");
        _namespaceLookups = stats.Counter("namespace_lookups", "count", "namespace steps: a pid translated at one level, a mount or network namespace consulted");
        _cgroupCharges = stats.Counter("cgroup_charges", "count", "pages charged to (or uncharged from) the memory cgroup, each at every level");
        _oomKills = stats.Counter("oom_kills", "count", "processes killed because a page would have taken the container over its memory limit");
    }

    /// <summary>The memory the container's pages take, as its memory cgroup counts it.</summary>
    public ulong ContainerMemoryBytes => _chargedBytes;

    /// <summary>pid_nr_ns and alloc_pid: a pid taken or given is translated at every pid-namespace level.</summary>
    private void PidNamespaces(KernelPath path) => NamespaceSteps(path, _containers?.PidNamespaceLevels ?? 0);

    /// <summary>A mount or network namespace consulted (path lookup, socket calls).</summary>
    private void OneNamespace(KernelPath path) => NamespaceSteps(path, _containers is null ? 0 : 1);

    private void NamespaceSteps(KernelPath path, int steps)
    {
        if (steps > 0)
        {
            path.Run(KernelRoutine.NamespaceLookup, times: steps);
            _namespaceLookups!.Add(steps);
        }
    }

    /// <summary>The CPU cgroups' accounting of a context switch or tick, at every level.</summary>
    private void CgroupCpuAccounting(KernelPath path)
    {
        if (_containers is not null)
        {
            path.Run(KernelRoutine.CgroupAccounting, times: _containers.CgroupLevels);
        }
    }

    /// <summary>
    /// mem_cgroup_charge: a new user page is charged at every level; false, and the process is to
    /// be killed, if it would take the container over its limit.
    /// </summary>
    private bool TryChargePage(KernelPath path)
    {
        if (_containers is null)
        {
            return true;
        }
        path.Run(KernelRoutine.CgroupAccounting, times: _containers.CgroupLevels);
        _cgroupCharges!.Increment();
        if (_containers.MemoryLimitBytes is { } limit && _chargedBytes + PhysicalMemory.FrameBytes > limit)
        {
            _outOfMemory = true;
            return false;
        }
        _chargedBytes += PhysicalMemory.FrameBytes;
        return true;
    }

    /// <summary>A user page freed is uncharged at every level.</summary>
    private void UnchargePage(KernelPath path)
    {
        if (_containers is not null && _chargedBytes > 0)
        {
            path.Run(KernelRoutine.CgroupAccounting, times: _containers.CgroupLevels);
            _cgroupCharges!.Increment();
            _chargedBytes -= PhysicalMemory.FrameBytes;
        }
    }

    /// <summary>The exit status of a process a fault kills: SIGKILL (137) from the OOM killer, SIGFPE (136), or SIGSEGV (139).</summary>
    private int FatalFaultStatus(Cpu.ExceptionVector vector)
    {
        if (_outOfMemory)
        {
            _outOfMemory = false;
            _oomKills!.Increment();
            return 137;
        }
        return vector == Cpu.ExceptionVector.DivideError ? 136 : 139;
    }
}
