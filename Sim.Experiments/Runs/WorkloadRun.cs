using Sim.Engine;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Paging;
using Sim.Models.Platform;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Experiments.Runs;

/// <summary>
/// Runs one workload on one core of a machine of the given profile, natively or under a
/// virtualization architecture (<see cref="VirtualizationAxes"/>): the same kernel, the same
/// workload, either on the machine or on a virtual machine of a hypervisor that owns the machine.
/// Gathers the figures of merit, the cycles by category and every statistic of the machine.
/// </summary>
public static class WorkloadRun
{
    /// <summary>The scheduler tick of the Linux-like kernel: 250 Hz, Linux 2.6's default CONFIG_HZ.</summary>
    public const ulong TimerHz = 250;

    public const int TimerVector = 0xEF;

    /// <summary>Host memory beyond the guest's under a hypervisor: its own tables, text and data, and the EPT (an allowance, ample for one guest).</summary>
    public const ulong HypervisorMemoryBytes = 256UL << 20;

    public static WorkloadRunResult Run(HardwareProfile profile, IWorkload workload, long size, ulong seed, MachineConfiguration? configuration = null,
        VirtualizationAxes? axes = null, MonitorParameters? parameters = null, ContainerConfiguration? containers = null) =>
        Prepare(profile, workload, size, seed, configuration, axes, parameters, containers).Execute();

    /// <summary>Builds the machine (and the hypervisor and virtual machine), boots the kernel and prepares the workload's memory, without running it (benchmarks time <see cref="PreparedRun.Execute"/> alone).</summary>
    public static PreparedRun Prepare(HardwareProfile profile, IWorkload workload, long size, ulong seed, MachineConfiguration? configuration = null,
        VirtualizationAxes? axes = null, MonitorParameters? parameters = null, ContainerConfiguration? containers = null)
    {
        configuration ??= MachineConfiguration.Default;
        axes ??= VirtualizationAxes.Native;
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(workload);
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "A workload needs a positive size.");
        }
        if (Problem(profile, workload, axes) is { } problem)
        {
            throw new ArgumentException($"Cannot run {workload.Name} under {axes} on {profile.Name}: {problem}.", nameof(axes));
        }
        var sim = new Simulator(seed);
        if (workload is IProcessWorkload processes)
        {
            // Processes run under the Linux-like kernel.
            LinuxKernel linux = null!;
            IPlatform platform = Boot(sim, profile, configuration, axes, parameters,
                (p, ops) => linux = new LinuxKernel(p, ops, LinuxKernelCosts.Default));
            var processContext = new WorkloadContext(platform.NewAddressSpace(), platform.Memory, sim.Random, size);
            processes.ConfigurePlatform(platform);
            if (platform.Devices.HasDisk)
            {
                linux.StartDisk();
            }
            if (platform.Devices.Nic is not null)
            {
                linux.StartNetwork();
            }
            if (axes.Hosting == Hosting.SharedKernel)
            {
                linux.EnableContainers(containers ?? ContainerConfiguration.Default); // the oslevel preset: the workload in a container of the one kernel
            }
            linux.StartTimer(vector: TimerVector, initialCount: (uint)(configuration.Timings.ApicTimerHz / TimerHz));
            processes.ConfigureKernel(linux, processContext);
            linux.Start(processes.CreateProgram(processContext), processes.CreateImage(linux, processContext));
            return new PreparedRun(sim, platform.BootCore, profile, axes, workload, processContext, seed);
        }
        MinimalKernel kernel = null!;
        IPlatform machine = Boot(sim, profile, configuration, axes, parameters, (p, _) => kernel = new MinimalKernel(p));
        AddressSpaceBuilder space = kernel.NewProcessSpace();
        var context = new WorkloadContext(space, machine.Memory, sim.Random, size);
        workload.Prepare(context);
        Core core = machine.BootCore;
        core.Mmu.LoadCr3(space.Pml4);
        core.Start(workload.CreateStream(context), workload.Cpl);
        return new PreparedRun(sim, core, profile, axes, workload, context, seed);
    }

    /// <summary>
    /// Why <paramref name="workload"/> cannot run under <paramref name="axes"/> on
    /// <paramref name="profile"/>, or null: the axes' own problems, and a workload of the minimal
    /// test kernel under a paravirtual kernel or containers, which only the Linux-like kernel has.
    /// </summary>
    public static string? Problem(HardwareProfile profile, IWorkload workload, VirtualizationAxes axes)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(axes);
        if (axes.Problem(profile) is { } problem)
        {
            return problem;
        }
        bool needsLinux = axes.Cpu == CpuVirtualization.Paravirtual || axes.Hosting == Hosting.SharedKernel;
        return needsLinux && workload is not IProcessWorkload
            ? $"{workload.Name} runs on the minimal test kernel, which has no paravirtual port, namespaces or cgroups; this architecture runs the process workloads (forkwait, lat-*, fio-*, ...)"
            : null;
    }

    /// <summary>
    /// The platform the kernel made by <paramref name="kernelFactory"/> boots on: the machine
    /// itself, or a virtual machine of a bare-metal monitor (a VT-x hypervisor, or a
    /// trap-and-emulate or binary-translating monitor) that owns a machine with room for the
    /// guest's memory and its own.
    /// </summary>
    private static IPlatform Boot(Simulator sim, HardwareProfile profile, MachineConfiguration configuration, VirtualizationAxes axes, MonitorParameters? parameters,
        Func<IPlatform, IPrivilegedOperations, ICoreHost> kernelFactory)
    {
        if (axes.IsNative || axes.Hosting == Hosting.SharedKernel)
        {
            return new Machine(sim, profile, configuration, m => kernelFactory(m, NativePrivilegedOperations.Instance)); // containers share the native kernel
        }
        MachineConfiguration host = configuration with { MemoryBytes = configuration.MemoryBytes + HypervisorMemoryBytes, Disk = DiskKind.None, Nic = false };
        if (axes.Io == IoVirtualization.Paravirtual)
        {
            configuration = configuration with { DiskInterface = DiskInterface.Virtio }; // the guest's disk is a virtio-blk device
        }
        else if (axes.Io == IoVirtualization.Passthrough)
        {
            configuration = configuration with { DiskInterface = DiskInterface.Ahci }; // the assigned function: an AHCI adapter
        }
        if (axes.Cpu == CpuVirtualization.HardwareAssist)
        {
            Hypervisor hypervisor = null!;
            _ = new Machine(sim, profile, host, m => hypervisor = new Hypervisor(m, axes.Mmu, HypervisorCosts.Default, parameters, hosted: axes.Hosting == Hosting.Hosted,
                assignedDisk: axes.Io == IoVirtualization.Passthrough));
            VirtualMachine vm = hypervisor.CreateVm(configuration);
            hypervisor.Launch(kernelFactory(vm, NativePrivilegedOperations.Instance));
            return vm;
        }
        SoftwareMonitor monitor = null!;
        _ = new Machine(sim, profile, host, m => monitor = new SoftwareMonitor(m, axes.Cpu, HypervisorCosts.Default, hosted: axes.Hosting == Hosting.Hosted, parameters));
        VirtualMachine guest = monitor.CreateVm(configuration);
        // The paravirtual kernel is the same kernel with hypercalls behind its privileged operations.
        IPrivilegedOperations ops = axes.Cpu == CpuVirtualization.Paravirtual ? new ParavirtualPrivilegedOperations(monitor.SharedInfo) : NativePrivilegedOperations.Instance;
        monitor.Launch(kernelFactory(guest, ops));
        return guest;
    }

    /// <summary>A machine with its workload loaded, ready to run.</summary>
    public sealed class PreparedRun
    {
        private readonly Simulator _sim;
        private readonly Core _core;
        private readonly HardwareProfile _profile;
        private readonly VirtualizationAxes _axes;
        private readonly IWorkload _workload;
        private readonly WorkloadContext _context;
        private readonly ulong _seed;

        internal PreparedRun(Simulator sim, Core core, HardwareProfile profile, VirtualizationAxes axes, IWorkload workload, WorkloadContext context, ulong seed)
        {
            (_sim, _core, _profile, _axes, _workload, _context, _seed) = (sim, core, profile, axes, workload, context, seed);
        }

        public WorkloadRunResult Execute()
        {
            _sim.Run(Tick.MaxValue);
            _core.SettleIdleTime();
            IReadOnlyList<StatSample> samples = _sim.Stats.Snapshot(_sim.Now);
            long instructions = (long)samples.Single(s => s.Path == _core.Path && s.Statistic == "instructions").Value;
            var outcome = new WorkloadOutcome(_sim.Now.TotalSeconds, _core.CyclesElapsed, instructions, (ulong)_core.CyclesIn(CycleCategory.Idle));
            var byCategory = Enum.GetValues<CycleCategory>().ToDictionary(c => c, _core.CyclesIn);
            return new WorkloadRunResult(
                _workload.Name, _profile.Name, _axes, _seed, _context.Size, outcome, _workload.FiguresOfMerit(_context, outcome), byCategory,
                new RunResult($"{_workload.Name}-{_profile.Name}-seed{_seed}", _seed, samples, _sim.EventsProcessed, _sim.Now, null));
        }
    }
}
