using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// A monitor's device backend threads (<see cref="IoThread"/>) and how they take their host CPU:
/// a thread's wake-up interrupt (<see cref="IoThread.WakeVector"/>) on its CPU runs, one after
/// another, every signalled thread of that CPU: its wake-up path (the host's switch to it and its
/// event loop's dispatch), then all the work posted to it (<see cref="MonitorServices.RunBackendWork"/>),
/// then, where it may, its polling. Shared by the KVM-like hypervisor (QEMU's I/O thread, vhost
/// workers) and the Xen-like paravirtual monitor (dom0's netback and blkback).
/// </summary>
internal sealed class BackendThreads(Machine machine, MonitorServices services, Func<Core, bool> mayPoll)
{
    /// <summary>Passes of the polling loop between two looks at what it found: a stage of the model, about a quarter of a microsecond.</summary>
    private const int PollPassesPerLook = 4;

    private readonly List<IoThread> _threads = [];

    /// <summary>The threads, in the order they were made.</summary>
    public IReadOnlyList<IoThread> All => _threads;

    /// <summary>
    /// A backend thread of <paramref name="kind"/> for <paramref name="owner"/>'s machine on host CPU
    /// <paramref name="physical"/>, its statistics under <c>{vm}.{kind's name}</c>; woken by an
    /// interrupt of its CPU. <paramref name="pollMaxNanoseconds"/> is QEMU's poll-max-ns (a user-space thread's only).
    /// </summary>
    public IoThread Add(VirtualCpu owner, int physical, BackendKind kind, long pollMaxNanoseconds = 0)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (physical < 0 || physical >= machine.Cores.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(physical), physical, $"The backend threads' CPU is one of the host's logical CPUs, 0 to {machine.Cores.Count - 1}.");
        }
        var thread = new IoThread(owner, physical, kind, machine.Sim.Stats.Group($"{owner.Vm.Name}.{IoThread.StatName(kind)}"),
            () => machine.Devices.ApicOf(physical).Accept(IoThread.WakeVector), pollMaxNanoseconds);
        _threads.Add(thread);
        return thread;
    }

    /// <summary>
    /// A hosted monitor's process on the host (VMware Workstation's, VirtualBox's): a thread on the
    /// virtual CPU's own host CPU that takes the host's completions for the machine's devices,
    /// each after the host's interrupt and driver: a frame the host's bridge passes up, read with a
    /// system call, and a request the host's disk finished; the device's interrupt then goes
    /// through the monitor's own injection. With <paramref name="virtioInKernel"/> the virtio
    /// devices' completions are the monitor's kernel part's, as vhost's (no system call). The
    /// accesses that submit the I/O keep their trip through the host from the exit.
    /// </summary>
    public void AddHostCompletions(VirtualCpu owner, bool virtioInKernel)
    {
        ArgumentNullException.ThrowIfNull(owner);
        PlatformDevices devices = owner.Vm.Devices;
        bool virtio = devices.Virtio is not null || devices.VirtioNet is not null;
        IoThread? process = devices.Nic is not null || devices.Ahci is not null || (virtio && !virtioInKernel) ? Add(owner, owner.Physical, BackendKind.UserSpace) : null;
        devices.Nic?.HostCompletions = process;
        devices.Ahci?.HostCompletions = process;
        if (virtio)
        {
            IoThread thread = virtioInKernel ? Add(owner, owner.Physical, BackendKind.HostKernel) : process!;
            devices.Virtio?.HostCompletions = thread;
            devices.VirtioNet?.HostCompletions = thread;
        }
    }

    /// <summary>The run of <paramref name="core"/>'s signalled threads that a wake-up on <paramref name="vector"/> starts, then <paramref name="then"/>; null for another vector or a monitor with no threads.</summary>
    public Func<StagedStream.Stage>? OnWake(int vector, Core core, Func<StagedStream.Stage> then) =>
        vector == IoThread.WakeVector && _threads.Count > 0 ? () => Batch(core, machine.PhysicalIndexOf(core), then) : null;

    /// <summary>The host CPUs the threads run on, each once, in order.</summary>
    public IEnumerable<int> Cpus => _threads.Select(t => t.Physical).Distinct().Order();

    /// <summary>
    /// The backend threads of <paramref name="physical"/> that were signalled run on
    /// <paramref name="core"/>, one after another: each one's wake-up, then its work
    /// (<see cref="Work"/>); then <paramref name="then"/>.
    /// </summary>
    private StagedStream.Stage Batch(Core core, int physical, Func<StagedStream.Stage> then)
    {
        if (_threads.Find(t => t.Physical == physical && t.Signalled) is not { } thread)
        {
            return then();
        }
        ulong start = core.LocalCycle;
        thread.Woke(core.LocalTime);
        HypervisorPath wake = services.NewPath().ChargeTo(CycleCategory.DeviceEmulation)
            .Run(HypervisorRoutine.VcpuSchedule) // the host's switch to the thread (Xen's to dom0's virtual CPU, boosted by the event)
            .Run(thread.Kind switch
            {
                BackendKind.HostKernel => HypervisorRoutine.VhostWake,
                BackendKind.Dom0 => HypervisorRoutine.Dom0Upcall,
                _ => HypervisorRoutine.IoThreadWake,
            });
        return new StagedStream.Stage(wake.ToStream(), () => Work(core, physical, thread, start, then));
    }

    /// <summary>
    /// Every piece of work posted to <paramref name="thread"/> by now (built once what came before
    /// has run), charged to device emulation, its cycles since <paramref name="start"/> counted
    /// when it has run. Then the thread waits again: on a CPU with nothing else to run it polls
    /// for as long as its polling time says (<see cref="Poll"/>); otherwise it blocks, and the CPU
    /// goes to the next signalled thread or to <paramref name="then"/>.
    /// </summary>
    private StagedStream.Stage Work(Core core, int physical, IoThread thread, ulong start, Func<StagedStream.Stage> then)
    {
        HypervisorPath path = services.NewPath().ChargeTo(CycleCategory.DeviceEmulation);
        while (thread.TryTake(out bool completion, out Action work))
        {
            services.RunBackendWork(thread, path, completion, work);
        }
        path.ChargeTo(CycleCategory.Hypervisor);
        return new StagedStream.Stage(path.ToStream(), () =>
        {
            thread.Ran(core.LocalCycle - start);
            thread.Wait(core.LocalTime, mayPoll(core));
            return thread.Polling ? Poll(core, physical, thread, then) : Batch(core, physical, then);
        });
    }

    /// <summary>
    /// A polling I/O thread (QEMU's aio_poll with poll-max-ns, util/aio-posix.c run_poll_handlers):
    /// while its polling time lasts it runs passes of its loop, each reading its virtqueues'
    /// available index (kicks are off meanwhile, so the guest exits for none) and taking, with no
    /// wake-up, the requests and completions it finds; when the time is up, kicks go back on, one
    /// last look is taken, and it blocks. The passes' cycles are device emulation on its CPU.
    /// </summary>
    private StagedStream.Stage Poll(Core core, int physical, IoThread thread, Func<StagedStream.Stage> then)
    {
        if (!thread.MayPollAt(core.LocalTime))
        {
            thread.StopPolling();
        }
        if (thread.FoundWork)
        {
            thread.TakePolled();
            return Work(core, physical, thread, core.LocalCycle, then);
        }
        if (!thread.Polling)
        {
            return Batch(core, physical, then);
        }
        ulong start = core.LocalCycle;
        HypervisorPath pass = services.NewPath().ChargeTo(CycleCategory.DeviceEmulation);
        for (int i = 0; i < PollPassesPerLook; i++)
        {
            pass.Run(HypervisorRoutine.IoThreadPoll);
            foreach (IPolledDevice device in thread.Polled)
            {
                pass.LoadWords(thread.Vm.HostAddress(device.PolledAddress), 1);
            }
        }
        return new StagedStream.Stage(pass.ToStream(), () =>
        {
            ulong cycles = core.LocalCycle - start;
            thread.Ran(cycles);
            thread.RanPolling(cycles);
            return Poll(core, physical, thread, then);
        });
    }
}
