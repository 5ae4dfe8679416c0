using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Randomness;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Experiments.Runs;

/// <summary>
/// Runs one workload on one core of a machine of the given profile, natively or under a
/// virtualization architecture (<see cref="VirtualizationAxes"/>): the same kernel, the same
/// workload, either on the machine or on a virtual machine of a hypervisor that owns the machine;
/// or, consolidated (<see cref="Consolidation"/>), in several virtual machines sharing the host,
/// each with its own copy. Gathers the figures of merit, the cycles by category and every
/// statistic of the machine.
/// </summary>
public static class WorkloadRun
{
    /// <summary>The scheduler tick of the Linux-like kernel: 250 Hz, Linux 2.6's default CONFIG_HZ.</summary>
    public const ulong TimerHz = 250;

    public const int TimerVector = 0xEF;

    /// <summary>
    /// Host memory that is not the guests': under a hypervisor, its own tables, text and data, the
    /// EPTs and (hosted) the host's system; under containers, the host system's. An assumed
    /// allowance, ample for the hypervisor's structures of a run's guests; no source gives one
    /// figure for all (Xen's dom0 and a hosted monitor's host are sized by their users).
    /// </summary>
    public const ulong HostSoftwareBytes = 256UL << 20;

    /// <param name="timeLimit">Simulated time at which the run stops even if workloads have not ended (their figures of merit are then NaN); null to run until they end.</param>
    /// <exception cref="Scenarios.MemoryExhaustedException">The simulated machine ran out of physical memory: the scenario asks more of it than it has.</exception>
    public static WorkloadRunResult Run(HardwareProfile profile, IWorkload workload, long size, ulong seed, MachineConfiguration? configuration = null,
        VirtualizationAxes? axes = null, MonitorParameters? parameters = null, ContainerConfiguration? containers = null, Consolidation? consolidation = null,
        Tick? timeLimit = null, Action<Tick, ulong>? progress = null)
    {
        try
        {
            return Prepare(profile, workload, size, seed, configuration, axes, parameters, containers, consolidation).Execute(timeLimit, progress);
        }
        catch (InsufficientMemoryException e)
        {
            string remedy = e.Message.StartsWith(VirtualMachine.HostOutOfMemory, StringComparison.Ordinal)
                ? "Give the host more memory (host_memory_mib, --host-memory-mib) or swap (host_swap_mib, --host-swap-mib), or run fewer guests: guest memory backed on first touch is overcommitted."
                : e.Message.Contains("has no swap", StringComparison.Ordinal)
                ? "Give the guest more memory (guest_memory_mib, --guest-memory-mib), its kernel a swap area (swap_mib, --swap-mib), or the workload a smaller size."
                : "Give the guest more memory (guest_memory_mib, --guest-memory-mib) or the workload a smaller size.";
            throw new Scenarios.MemoryExhaustedException($"the simulated machine ran out of memory running {workload.Name} at size {size}: {e.Message} {remedy}");
        }
    }

    /// <summary>Builds the machine (and the hypervisor and virtual machines), boots the kernels and prepares the workloads' memory, without running them (benchmarks time <see cref="PreparedRun.Execute"/> alone).</summary>
    public static PreparedRun Prepare(HardwareProfile profile, IWorkload workload, long size, ulong seed, MachineConfiguration? configuration = null,
        VirtualizationAxes? axes = null, MonitorParameters? parameters = null, ContainerConfiguration? containers = null, Consolidation? consolidation = null)
    {
        configuration ??= MachineConfiguration.Default;
        axes ??= VirtualizationAxes.Native;
        consolidation ??= Consolidation.OneGuest;
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(workload);
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "A workload needs a positive size.");
        }
        if (Problem(profile, workload, axes, consolidation, configuration.ThreadsPerCore) is { } problem)
        {
            throw new ArgumentException($"Cannot run {workload.Name} under {axes} on {profile.Name}: {problem}.", nameof(axes));
        }
        if (consolidation.HostMemoryBytes is { } hostBytes && MemoryProblem(axes, consolidation, hostBytes, configuration.MemoryBytes, parameters) is { } memory)
        {
            throw new ArgumentException($"The guests do not fit: {memory}.", nameof(consolidation));
        }
        if (parameters is { BalloonTargetBytes: not null } or { KsmPagesToScan: not null })
        {
            parameters.Validate();
            if (axes.IsNative || axes.Hosting == Hosting.SharedKernel || axes.Cpu != CpuVirtualization.HardwareAssist || axes.Mmu != MmuVirtualization.Nested)
            {
                throw new ArgumentException($"A memory balloon and page merging work on a VM's pages on a VT-x host with EPT, and {axes} has none.", nameof(parameters));
            }
        }
        if (parameters?.BalloonTargetBytes is { } balloon)
        {
            if (balloon >= configuration.MemoryBytes)
            {
                throw new ArgumentOutOfRangeException(nameof(parameters), $"A balloon of {balloon >> 20} MiB would hold all of a guest's {configuration.MemoryBytes >> 20} MiB.");
            }
        }
        var sim = new Simulator(seed);
        var host = new Host(sim, profile, configuration, axes, parameters, consolidation);
        var guests = new List<PreparedGuest>();
        bool shared = axes.Hosting == Hosting.SharedKernel;
        for (int g = 0; g < consolidation.Guests; g++)
        {
            RandomStreams random = g == 0 ? sim.Random : sim.Random.Within(shared ? $"ct{g}." : $"vm{g}.");
            (IWorkload w, long n) = consolidation.WorkloadOf(g, new GuestWorkload(workload, size));
            PreparedGuest guest = w is IProcessWorkload processes
                ? BootLinux(host, processes, n, random, shared ? containers ?? ContainerConfiguration.Default : null)
                : BootMinimal(host, w, n, random);
            guests.Add(guest with { Workload = w });
        }
        host.AddHostProcesses(consolidation.HostProcesses);
        host.StartIdleCpus();
        return new PreparedRun(sim, host.Contexts, host.Occupancy, guests, profile, axes, workload, seed);
    }

    /// <summary>
    /// A guest of the Linux-like kernel: devices started, the tick, the workload's first process;
    /// for the oslevel preset, in a container of its own, the first container booting the one
    /// kernel and the others joining it.
    /// </summary>
    private static PreparedGuest BootLinux(Host host, IProcessWorkload processes, long size, RandomStreams random, ContainerConfiguration? containers)
    {
        if (containers is not null && host.SharedKernel is { } kernel)
        {
            return StartWorkload(kernel.Platform, kernel.Linux, processes, size, random, kernel.Linux.AddContainer(containers));
        }
        LinuxKernel linux = null!;
        IPlatform platform = host.Boot((p, ops) => linux = new LinuxKernel(p, ops, LinuxKernelCosts.Default));
        if (host.TransparentHugePages)
        {
            linux.EnableTransparentHugePages(host.KhugepagedSleepMilliseconds);
        }
        if (host.SwapBytes > 0)
        {
            linux.EnableSwap(host.SwapBytes);
        }
        if (platform.Devices.HasDisk)
        {
            linux.StartDisk();
        }
        if (platform.Devices.Network is not null)
        {
            linux.StartNetwork();
        }
        if (platform.Devices.Balloon is not null)
        {
            linux.StartBalloon();
        }
        if (containers is null && platform is VirtualMachine vm)
        {
            vm.Booted(platform.Memory.FramesHandedOut()); // the kernel's own structures, which its boot wrote (mem_map, page tables, text, queues)
            if (host.GuestBaseSystem is { } system)
            {
                vm.Booted(linux.LoadBaseSystem(system), idle: true); // its daemons do not run, and its image's files are not read again
            }
        }
        linux.StartTimer(vector: TimerVector, initialCount: (uint)(host.Configuration.Timings.ApicTimerHz / TimerHz));
        if (platform.Cores.Count > 1)
        {
            linux.BringUpSecondaryCpus(platform); // a machine's cores, or a VM's virtual CPUs
            if (platform is Machine { Configuration.IrqCpu: not 0 } machine)
            {
                linux.SetIrqAffinity(machine.Configuration.IrqCpu); // CPU 0 is where boot routed them
            }
        }
        Container? container = containers is null ? null : linux.AddContainer(containers); // the oslevel preset: the workload in a container of the one kernel
        host.SharedKernel = containers is null ? null : (platform, linux);
        PreparedGuest guest = StartWorkload(platform, linux, processes, size, random, container);
        if (platform is VirtualMachine ballooned && host.BalloonPagesAtBoot is { } pages)
        {
            // The host set the balloon's target once the guest was up: its inflating took free pages, then page cache.
            foreach (ulong gpa in linux.InflateBalloonAtBoot(pages))
            {
                ballooned.Discard(gpa, out _); // the host's side, as it took each page given up
            }
        }
        return guest;
    }

    /// <summary>The workload's files and libraries set up in the kernel, and its first process started (in <paramref name="container"/>, if any).</summary>
    private static PreparedGuest StartWorkload(IPlatform platform, LinuxKernel linux, IProcessWorkload processes, long size, RandomStreams random, Container? container)
    {
        var context = new WorkloadContext(platform.NewAddressSpace(), platform.Memory, random, size) { Port = LinuxKernel.ServicePort(container) };
        processes.ConfigurePlatform(platform, context);
        processes.ConfigureKernel(linux, context);
        Process init = linux.Start(processes.CreateProgram(context), processes.CreateImage(linux, context), container);
        if (platform is VirtualMachine vm)
        {
            vm.Booted(linux.ResidentFrames(init)); // what the service touched as it started, before the run
        }
        return new PreparedGuest(container is null ? platform.Name : $"ct{container.Index}", platform.BootCore, context, container) { Kernel = linux, Balloon = platform.Devices.Balloon };
    }

    /// <summary>A guest of the minimal test kernel: the workload's stream on the core, in its own address space.</summary>
    private static PreparedGuest BootMinimal(Host host, IWorkload workload, long size, RandomStreams random)
    {
        MinimalKernel kernel = null!;
        IPlatform machine = host.Boot((p, _) => kernel = new MinimalKernel(p));
        AddressSpaceBuilder space = kernel.NewProcessSpace();
        var context = new WorkloadContext(space, machine.Memory, random, size);
        workload.Prepare(context);
        Core core = machine.BootCore;
        core.LoadCr3BeforeStart(space.Pml4);
        core.Start(workload.CreateStream(context), workload.Cpl);
        return new PreparedGuest(machine.Name, core, context);
    }

    /// <summary>
    /// Why <paramref name="workload"/> cannot run under <paramref name="axes"/> on
    /// <paramref name="profile"/>, or null: the axes' own problems, a workload of the minimal
    /// test kernel under a paravirtual kernel or containers, which only the Linux-like kernel has,
    /// and a consolidation of several guests under anything but a VT-x hypervisor.
    /// </summary>
    /// <param name="threadsPerCore">The host's hardware threads per core: its logical CPUs are the consolidation's cores times these.</param>
    public static string? Problem(HardwareProfile profile, IWorkload workload, VirtualizationAxes axes, Consolidation? consolidation = null, int threadsPerCore = 1)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(axes);
        if (axes.Problem(profile) is { } problem)
        {
            return problem;
        }
        bool needsLinux = axes.Cpu == CpuVirtualization.Paravirtual || axes.Hosting == Hosting.SharedKernel;
        string LinuxForm(string otherwise) => WorkloadCatalog.All.Any(w => w.Workload.Name == workload.Name + "-linux") ? $"{workload.Name}-linux, the same kernel as a Linux process" : otherwise;
        if (needsLinux && workload is not IProcessWorkload)
        {
            return $"{workload.Name} runs on the minimal test kernel, which has no paravirtual port, namespaces or cgroups; this architecture runs {LinuxForm("the process workloads (forkwait, lat-*, fio-*, web, ...)")}";
        }
        if (consolidation is { SwapBytes: > 0 } && workload is not IProcessWorkload)
        {
            return $"swap is the Linux-like kernel's, and {workload.Name} runs on the minimal test kernel, which has none; use {LinuxForm("a process workload")}, or swap_mib 0";
        }
        if (consolidation is { TransparentHugePages: true } && workload is not IProcessWorkload)
        {
            return $"transparent huge pages are the Linux-like kernel's, and {workload.Name} runs on the minimal test kernel, which maps its data itself in 4 KiB pages; use {LinuxForm("a process workload")}, or transparent_hugepages never";
        }
        if (consolidation?.Problem() is { } wrong)
        {
            return wrong;
        }
        foreach (GuestWorkload other in consolidation?.Others ?? [])
        {
            if (Problem(profile, other.Workload, axes) is { } theirs)
            {
                return $"another guest's {other.Workload.Name}: {theirs}";
            }
        }
        if (consolidation is { HostProcesses: > 0 } && !(axes.Hosting == Hosting.Hosted && axes.Cpu == CpuVirtualization.HardwareAssist))
        {
            return "host processes compete with the guests under a hosted VT-x hypervisor only (--preset type2)";
        }
        int logical = (consolidation?.HostCores ?? 1) * threadsPerCore;
        if (consolidation is { Vcpus: not null } && Enumerable.Range(0, consolidation.Guests).Any(g => consolidation.VcpusOf(g) > 1) && VcpusProblem(workload, axes, consolidation) is { } vcpus)
        {
            return vcpus;
        }
        if (axes.IsNative && logical > 1 && workload is not IProcessWorkload)
        {
            return $"{workload.Name} runs on the minimal test kernel, which uses one CPU: give --host-cores 1 (and no SMT), or run a process workload on the SMP kernel";
        }
        if ((axes.IsNative || axes.Hosting == Hosting.SharedKernel) && logical > LinuxKernel.MostCpus)
        {
            return $"the SMP kernel runs on at most {LinuxKernel.MostCpus} CPUs, and this host has {logical}: use fewer sockets or cores, or one thread per core";
        }
        if (consolidation is { IsSingle: false } && axes.Hosting == Hosting.SharedKernel)
        {
            return workload is IProcessWorkload ? null : "containers share the Linux-like kernel, which runs the process workloads only";
        }
        return consolidation is { IsSingle: false } && axes.Cpu != CpuVirtualization.HardwareAssist
            ? $"several guests on one host are built for VT-x hypervisors and containers only; {AxisNames.Of(axes.Cpu)} runs one guest"
            : null;
    }

    /// <summary>Why virtual machines of several virtual CPUs cannot run as asked, or null.</summary>
    private static string? VcpusProblem(IWorkload workload, VirtualizationAxes axes, Consolidation consolidation)
    {
        if (axes.Cpu != CpuVirtualization.HardwareAssist || axes.Hosting == Hosting.SharedKernel)
        {
            return "virtual machines of several virtual CPUs are built for the VT-x hypervisors (type1, type2) only";
        }
        if (axes.Mmu != MmuVirtualization.Nested)
        {
            return "a virtual machine of several virtual CPUs needs nested paging (EPT) here: the model keeps shadow page tables per virtual CPU, and one guest's would not see each other's write-protection";
        }
        for (int g = 0; g < consolidation.Guests; g++)
        {
            if (consolidation.VcpusOf(g) > 1 && consolidation.WorkloadOf(g, new GuestWorkload(workload, 1)).Workload is not IProcessWorkload and { Name: var name })
            {
                return $"{name} runs on the minimal test kernel, which uses one CPU: give it one virtual CPU, or run a process workload on the guest's SMP kernel";
            }
        }
        return consolidation.HostProcesses > 0
            ? "host processes run until every guest has powered off, and a guest of several virtual CPUs idles when its work ends rather than powering off: not built yet; leave host_processes 0"
            : null;
    }

    /// <summary>
    /// Why the guests cannot fit in <paramref name="hostBytes"/> of host memory, or null: virtual
    /// machines of <paramref name="guestBytes"/> each, reserved whole beside the hypervisor's
    /// allowance (their EPT tables too, 2 MiB pages where <paramref name="parameters"/> say so);
    /// containers need the allowance and room for the kernel. Guest memory backed on first touch
    /// is not reserved: the guests may overcommit the host, and only the allowance and what the
    /// guests' boots leave (their base systems: the image's pages once where the host merges
    /// pages; no more than a balloon set at boot leaves each, but all of the last one's boot
    /// before its balloon inflates) are checked here (a host that runs out while the guests touch
    /// their memory stops the run, saying which guest and where).
    /// </summary>
    public static string? MemoryProblem(VirtualizationAxes axes, Consolidation consolidation, ulong hostBytes, ulong guestBytes, MonitorParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(axes);
        ArgumentNullException.ThrowIfNull(consolidation);
        bool largeEptPages = parameters?.LargeEptPages ?? false;
        bool mergesPages = parameters?.KsmPagesToScan is not null;
        const ulong MiB = 1UL << 20;
        if (axes.IsNative)
        {
            return null;
        }
        if (axes.Hosting == Hosting.SharedKernel)
        {
            return hostBytes >= HostSoftwareBytes + (64 * MiB) ? null
                : $"the host's {hostBytes / MiB} MiB leave less than 64 MiB for the containers' kernel beside the host system's {HostSoftwareBytes / MiB} MiB";
        }
        if (parameters?.GuestMemoryOnTouch == true)
        {
            if (hostBytes <= HostSoftwareBytes)
            {
                return $"the host's {hostBytes / MiB} MiB leave nothing for the guests beside the hypervisor's {HostSoftwareBytes / MiB} MiB";
            }
            // Overcommitted memory still backs what each guest's boot wrote; merging keeps one copy of the image's pages.
            if (consolidation.GuestBaseSystem is { } system)
            {
                ulong guests = (ulong)consolidation.Guests;
                ulong image = mergesPages ? 0 : system.CacheBytes; // each VM's own copy of its image's pages
                ulong settled = parameters?.BalloonTargetBytes is { } balloon && parameters.BalloonAtMilliseconds is null
                    ? Math.Max(system.AnonymousBytes, Math.Min(system.AnonymousBytes + image, guestBytes - balloon)) // what its balloon leaves it, the daemons' memory at least
                    : system.AnonymousBytes + image;
                ulong boot = (settled * (guests - 1)) + system.AnonymousBytes + image + (mergesPages ? system.CacheBytes : 0);
                ulong swap = parameters?.HostSwapBytes ?? 0; // what the host's frames cannot hold its swap may
                if (boot > hostBytes - HostSoftwareBytes + swap)
                {
                    return $"{guests} virtual machines whose boots each leave {system.CacheBytes / MiB} MiB of page cache and {system.AnonymousBytes / MiB} MiB of daemons' memory " +
                        $"need at least {(boot + MiB - 1) / MiB} MiB{(mergesPages ? " with their image's pages merged" : "")} beside the hypervisor's {HostSoftwareBytes / MiB} MiB, and the host has {hostBytes / MiB} MiB{(swap > 0 ? $" and {swap / MiB} MiB of swap" : "")}: " +
                        $"they cannot boot even with memory overcommitted (backed on first touch{(mergesPages ? "" : "; merging pages (ksm_pages_to_scan) would keep one copy of the image's")})";
                }
            }
            return null;
        }
        ulong need = HostBytesFor(axes, consolidation.Guests, guestBytes, largeEptPages);
        ulong tables = need - (guestBytes * (ulong)consolidation.Guests) - HostSoftwareBytes;
        if (need <= hostBytes)
        {
            return null;
        }
        int fit = 0;
        while (fit < consolidation.Guests && HostBytesFor(axes, fit + 1, guestBytes, largeEptPages) <= hostBytes)
        {
            fit++;
        }
        string first = fit switch
        {
            0 => "not even the first guest, vm0, fits",
            1 => "only vm0 fits, and vm1 is the first that does not",
            _ => $"vm0 to vm{fit - 1} fit, and vm{fit} is the first that does not",
        };
        return $"{consolidation.Guests} virtual machines of {guestBytes / MiB} MiB{(tables > 0 ? $" with their EPT tables ({Math.Ceiling(tables / (double)MiB)} MiB)" : "")} and the hypervisor's {HostSoftwareBytes / MiB} MiB need {(need + MiB - 1) / MiB} MiB, and the host has {hostBytes / MiB} MiB: " +
            $"{(need - hostBytes + MiB - 1) / MiB} MiB short; {first} (memory is reserved, not overcommitted)";
    }

    /// <summary>
    /// The host memory <paramref name="guests"/> virtual machines of <paramref name="guestBytes"/>
    /// need under a monitor: their memory, reserved whole; under nested paging their EPT tables
    /// (real frames the hypervisor allocates); and the hypervisor's own allowance; rounded up to 2 MiB.
    /// </summary>
    public static ulong HostBytesFor(VirtualizationAxes axes, int guests, ulong guestBytes, bool largeEptPages)
    {
        ArgumentNullException.ThrowIfNull(axes);
        ulong perGuest = guestBytes + (axes.Mmu == MmuVirtualization.Nested ? Ept.TableBytes(guestBytes, largeEptPages) : 0);
        const ulong TwoMiB = 2UL << 20; // the machine's memory comes in whole 2 MiB runs
        return ((perGuest * (ulong)guests) + HostSoftwareBytes + TwoMiB - 1) & ~(TwoMiB - 1);
    }

    /// <summary>
    /// The machine the guests boot on, and what owns it: the kernel itself (native and
    /// containers), or a bare-metal monitor (a VT-x hypervisor, or a trap-and-emulate,
    /// binary-translating or paravirtual monitor) that owns a machine with room for the guests'
    /// memory and its own, and makes a virtual machine for each guest.
    /// </summary>
    private sealed class Host(Simulator sim, HardwareProfile profile, MachineConfiguration configuration, VirtualizationAxes axes, MonitorParameters? parameters,
        Consolidation consolidation)
    {
        private Machine? _machine;
        private Hypervisor? _hypervisor;
        private SoftwareMonitor? _monitor;

        public MachineConfiguration Configuration => configuration;

        /// <summary>The pages each VM's balloon holds from its boot on (the host set its target then), or null.</summary>
        public uint? BalloonPagesAtBoot => parameters is { BalloonTargetBytes: { } target, BalloonAtMilliseconds: null } ? (uint)(target / PhysicalMemory.FrameBytes) : null;

        /// <summary>What each VM's boot leaves in its memory, or null.</summary>
        public BaseSystem? GuestBaseSystem => consolidation.GuestBaseSystem;

        /// <summary>Whether the run's Linux-like kernels map anonymous memory with transparent huge pages.</summary>
        public bool TransparentHugePages => consolidation.TransparentHugePages;

        /// <summary>The swap area of the run's Linux-like kernels, in bytes (0: none).</summary>
        public ulong SwapBytes => consolidation.SwapBytes;

        /// <summary>khugepaged's sleep between batches in those kernels.</summary>
        public double KhugepagedSleepMilliseconds => consolidation.KhugepagedSleepMilliseconds;

        /// <summary>Under the oslevel preset, once the first container has booted it: the platform and the one kernel the others join.</summary>
        public (IPlatform Platform, LinuxKernel Linux)? SharedKernel { get; set; }

        /// <summary>Every execution context of the machine: its cores', and those added for the virtual CPUs they time-share.</summary>
        public IReadOnlyList<Core> Contexts => _machine?.Contexts ?? throw new InvalidOperationException("No guest has booted.");

        /// <summary>Each logical CPU's busy and idle cycles.</summary>
        public IReadOnlyList<CpuOccupancy> Occupancy => _machine?.Occupancy ?? throw new InvalidOperationException("No guest has booted.");

        /// <summary>The platform of the next guest, with its kernel made by <paramref name="kernelFactory"/> (and launched, under a monitor).</summary>
        public IPlatform Boot(Func<IPlatform, IPrivilegedOperations, ICoreHost> kernelFactory)
        {
            if (axes.IsNative || axes.Hosting == Hosting.SharedKernel)
            {
                MachineConfiguration machine = consolidation.HostMemoryBytes is { } host
                    ? configuration with { MemoryBytes = axes.IsNative ? host : host - HostSoftwareBytes }
                    : configuration;
                machine = machine with { Cores = consolidation.HostCores }; // the SMP kernel runs on every logical CPU, natively and for the containers
                _machine = new Machine(sim, profile, machine, m => kernelFactory(m, NativePrivilegedOperations.Instance)); // containers share the native kernel
                return _machine;
            }
            MachineConfiguration guest = configuration;
            if (axes.Io == IoVirtualization.Paravirtual)
            {
                guest = guest with { DiskInterface = DiskInterface.Virtio, Network = NetworkInterface.Virtio }; // the guest's disk and NIC are virtio devices
            }
            else if (axes.Io == IoVirtualization.Passthrough)
            {
                guest = guest with { DiskInterface = guest.DiskInterface == DiskInterface.Nvme ? DiskInterface.Nvme : DiskInterface.Ahci }; // the assigned function: an NVMe controller or an AHCI adapter
            }
            if (axes.Cpu == CpuVirtualization.HardwareAssist)
            {
                if (_hypervisor is null)
                {
                    _machine = new Machine(sim, profile, HostConfiguration(), m => _hypervisor = new Hypervisor(m, axes.Mmu, HypervisorCosts.Default, parameters,
                        hosted: axes.Hosting == Hosting.Hosted, assignedDevices: axes.Io == IoVirtualization.Passthrough, HostDevicesFor(guest)));
                }
                int index = _hypervisor!.Vms.Count;
                VirtualMachine vm = _hypervisor.CreateVm(
                    guest with { Cores = consolidation.VcpusOf(index), CoresPerSocket = null, ThreadsPerCore = 1, IrqCpu = 0, Balloon = parameters?.BalloonTargetBytes is not null },
                    consolidation.PlacementOf(index));
                _hypervisor.Launch(vm, kernelFactory(vm, NativePrivilegedOperations.Instance));
                if (parameters is { BalloonTargetBytes: { } target, BalloonAtMilliseconds: { } at })
                {
                    // The host's management asks the balloon for its target (virsh setmem, QEMU's balloon command) at the given time.
                    sim.Schedule(new CallbackEvent($"{vm.Name}.balloon.request", () => vm.Devices.Balloon!.Request((uint)(target / PhysicalMemory.FrameBytes))),
                        Tick.FromNanoseconds((ulong)(at * 1e6)));
                }
                return vm;
            }
            SoftwareMonitor monitor = null!;
            _machine = new Machine(sim, profile, HostConfiguration(), m => monitor = new SoftwareMonitor(m, axes.Cpu, HypervisorCosts.Default,
                hosted: axes.Hosting == Hosting.Hosted, parameters, HostDevicesFor(guest)));
            _monitor = monitor;
            VirtualMachine single = monitor.CreateVm(guest);
            // The paravirtual kernel is the same kernel with hypercalls behind its privileged operations.
            IPrivilegedOperations ops = axes.Cpu == CpuVirtualization.Paravirtual ? new ParavirtualPrivilegedOperations(monitor.SharedInfo) : NativePrivilegedOperations.Instance;
            monitor.Launch(kernelFactory(single, ops));
            return single;
        }

        /// <summary>The host's physical disk and port, with room for every guest's image (<see cref="HostDevices"/>).</summary>
        private HostDevices HostDevicesFor(MachineConfiguration guest) => new(sim, guest, consolidation.Guests);

        /// <summary>Once the guests are launched, the host CPUs that only a backend thread runs on idle in the host's loop (or Xen's, for dom0's).</summary>
        public void StartIdleCpus()
        {
            _hypervisor?.StartIdleCpus();
            _monitor?.StartIdleCpus();
        }

        /// <summary>Hosted: the host's CPU-bound processes, placed after the guests.</summary>
        public void AddHostProcesses(int count)
        {
            if (count > 0)
            {
                _hypervisor!.AddHostProcesses(count);
            }
        }

        /// <summary>
        /// The host under a monitor: the guests' memory and the monitor's own, the consolidation's
        /// cores, and no disk or NIC as devices of its platform (its physical disk and port are the
        /// guests' backends' <see cref="HostDevices"/>, reached through host software). A host of a given memory
        /// whose guests are backed as they touch leaves them and the hypervisor's structures what
        /// its own system's allowance (<see cref="HostSoftwareBytes"/>, not simulated as frames)
        /// leaves, as the containers' kernel gets it: frames run short where the check of
        /// <see cref="MemoryProblem"/> says they do. Guests reserved whole were checked against the
        /// same sum, and the host keeps the allowance's frames as room for the NUMA nodes'
        /// remainders (a guest's memory lies whole on one node). Memory left unbounded is what the
        /// guests need and one guest more per node, since the nodes' remainders cannot hold one together.
        /// </summary>
        private MachineConfiguration HostConfiguration()
        {
            MachineConfiguration host = configuration with { Cores = consolidation.HostCores, Disk = DiskKind.None, Nic = false };
            int nodes = host.TopologyOn(profile).Sockets;
            ulong guestRun = (ulong)PhysicalMemory.LargeFramesFor(configuration.MemoryBytes) * PhysicalMemory.LargeFrameBytes; // one guest's memory in whole 2 MiB runs
            ulong unbounded = HostBytesFor(axes, consolidation.Guests, configuration.MemoryBytes, parameters?.LargeEptPages ?? false) + (nodes > 1 ? (ulong)nodes * guestRun : 0);
            return host with
            {
                MemoryBytes = consolidation.HostMemoryBytes is { } bytes ? parameters?.GuestMemoryOnTouch == true ? bytes - HostSoftwareBytes : bytes : unbounded,
            };
        }
    }

    /// <summary>A guest ready to run: its name, the context its virtual CPU (or the machine's core) runs in, its workload's context.</summary>
    internal sealed record PreparedGuest(string Name, Core Core, WorkloadContext Context, Container? Container = null)
    {
        /// <summary>The workload the guest runs.</summary>
        public IWorkload? Workload { get; init; }

        /// <summary>The guest's Linux-like kernel, or null for the minimal test kernel.</summary>
        public LinuxKernel? Kernel { get; init; }

        /// <summary>The VM's memory balloon, or null when it has none.</summary>
        public Sim.Models.Devices.VirtioBalloon? Balloon { get; init; }

        /// <summary>An SMP kernel's CPUs (the guest's outcome sums them), or none for a guest on one CPU.</summary>
        public IReadOnlyList<Core> SmpCores => Kernel is { Cpus.Count: > 1 } k ? [.. k.Cpus.Select(c => c.Core)] : [];
    }

    /// <summary>A machine with its workloads loaded, ready to run.</summary>
    public sealed class PreparedRun
    {
        private readonly Simulator _sim;
        private readonly IReadOnlyList<Core> _contexts;
        private readonly IReadOnlyList<CpuOccupancy> _occupancy;
        private readonly List<PreparedGuest> _guests;
        private readonly HardwareProfile _profile;
        private readonly VirtualizationAxes _axes;
        private readonly IWorkload _workload;
        private readonly ulong _seed;

        /// <summary>How much simulated time a run goes between two reports of its progress.</summary>
        public static readonly Tick ProgressSlice = Tick.FromMilliseconds(1);

        internal PreparedRun(Simulator sim, IReadOnlyList<Core> contexts, IReadOnlyList<CpuOccupancy> occupancy, List<PreparedGuest> guests, HardwareProfile profile, VirtualizationAxes axes,
            IWorkload workload, ulong seed)
        {
            (_sim, _contexts, _occupancy, _guests, _profile, _axes, _workload, _seed) = (sim, contexts, occupancy, guests, profile, axes, workload, seed);
        }

        /// <summary>The memory balloons of the VMs that have one, in guest order: what the host's management may ask to change during the run (<see cref="At"/>).</summary>
        public IReadOnlyList<Sim.Models.Devices.VirtioBalloon> Balloons => [.. _guests.Select(g => g.Balloon).OfType<Sim.Models.Devices.VirtioBalloon>()];

        /// <summary>Has the host's management do <paramref name="action"/> (a request to a balloon, say) at simulated time <paramref name="when"/>.</summary>
        public void At(Tick when, string name, Action action) => _sim.Schedule(new CallbackEvent(name, action), when);

        /// <summary>Has <paramref name="tracer"/> watch the first guest's core (its context) through the run.</summary>
        public void Attach(ICoreTracer tracer) => _guests[0].Core.Tracer = tracer;

        /// <summary>The first guest's CPUs: the contexts of its virtual CPUs (or the cores of a native or container SMP kernel), or its one core.</summary>
        public IReadOnlyList<Core> FirstGuestCpus => _guests[0].SmpCores is { Count: > 0 } cpus ? cpus : [_guests[0].Core];

        /// <summary>Has <paramref name="tracer"/> watch every one of <see cref="FirstGuestCpus"/> through the run (a <see cref="VcpuTimeline"/>).</summary>
        public void AttachToFirstGuestCpus(ICoreTracer tracer)
        {
            foreach (Core cpu in FirstGuestCpus)
            {
                cpu.Tracer = tracer;
            }
        }

        /// <summary>
        /// Runs until every workload has ended, or until <paramref name="timeLimit"/> of simulated
        /// time; <paramref name="progress"/>, if given, hears the simulated time and the events so far
        /// after every <see cref="ProgressSlice"/> of simulated time (the run goes on in slices of
        /// that length: between two events nothing happens, so cutting there changes no event's
        /// order or time; a core runs its instructions inline between events, so events are too few
        /// to count progress by).
        /// </summary>
        public WorkloadRunResult Execute(Tick? timeLimit = null, Action<Tick, ulong>? progress = null)
        {
            Tick end = timeLimit ?? Tick.MaxValue;
            RunOutcome outcome;
            if (progress is null)
            {
                outcome = _sim.Run(end);
            }
            else
            {
                while (true)
                {
                    Tick slice = end.Picoseconds - _sim.Now.Picoseconds > ProgressSlice.Picoseconds ? _sim.Now + ProgressSlice : end;
                    outcome = _sim.Run(slice);
                    if (outcome != RunOutcome.TimeLimit || slice == end)
                    {
                        break;
                    }
                    progress(_sim.Now, _sim.EventsProcessed);
                }
            }
            bool cut = outcome == RunOutcome.TimeLimit;
            foreach (Core c in _contexts)
            {
                c.SettleIdleTime();
            }
            IReadOnlyList<StatSample> samples = _sim.Stats.Snapshot(_sim.Now);
            List<GuestResult> guests = [.. _guests.Select(g => Result(g, samples, cut))];
            GuestResult first = guests[0];
            return new WorkloadRunResult(
                _workload.Name, _profile.Name, _axes, _seed, first.Context.Size, first.Outcome, first.FiguresOfMerit, first.CyclesByCategory,
                new RunResult($"{_workload.Name}-{_profile.Name}-seed{_seed}", _seed, samples, _sim.EventsProcessed, _sim.Now, null))
            {
                Guests = guests.Count > 1 ? guests : [],
                FirstGuestCpus = _guests[0].SmpCores.Count == 0 ? [_guests[0].Core.Path] : [.. _guests[0].SmpCores.Select(c => c.Path)],
                HostCpuUtilization = [.. _occupancy.Select(o => o.Utilization)],
                FrequencyHz = _profile.FrequencyHz,
                TimeLimit = cut ? timeLimit : null,
                Unfinished = guests.Count(g => !g.Finished),
                GuestMemoryBytes = first.MemoryBytes,
                ResponseMicroseconds = _workload is IOpenLoopWorkload open ? open.ResponseMicroseconds(first.Context) : [],
                IsService = _workload is IOpenLoopWorkload,
            };
        }

        /// <summary>
        /// A guest's outcome: up to the moment its workload ended (its last thread; for one of
        /// several containers, the exit of its last process), or the end of the run. A workload
        /// the time limit cut short (<paramref name="cut"/>) has figures of merit of NaN: rates and
        /// means over an unfinished size would be wrong.
        /// </summary>
        private GuestResult Result(PreparedGuest guest, IReadOnlyList<StatSample> samples, bool cut)
        {
            Core core = guest.Core;
            IReadOnlyList<Core> smp = guest.SmpCores;
            CoreMark? ended = (_guests.Count > 1 ? guest.Container?.Ended : null) ?? (smp.Count > 0 ? guest.Kernel!.WorkEnded : core.WorkEnded);
            CoreMark end = ended ?? (smp.Count > 0 ? CoreMark.Sum(_sim.Now, smp.Select(c => c.Mark()))
                : new CoreMark(_sim.Now, core.CyclesElapsed, (long)samples.Single(s => s.Path == core.Path && s.Statistic == "instructions").Value,
                    Enum.GetValues<CycleCategory>().ToDictionary(c => c, core.CyclesIn), core.UserModeCycles));
            var outcome = new WorkloadOutcome(end.Time.TotalSeconds, end.Cycles, end.Instructions, (ulong)end.IdleCycles, (ulong)end.UserModeCycles,
                (ulong)end.CyclesByCategory[CycleCategory.Descheduled]);
            IReadOnlyDictionary<CycleCategory, long> byCategory = end.CyclesByCategory;
            IWorkload workload = guest.Workload ?? _workload;
            bool finished = !cut || ended is not null;
            IReadOnlyList<Metric> figures = workload.FiguresOfMerit(guest.Context, outcome);
            return new GuestResult(guest.Name, guest.Container is not null, core.Path, guest.Context, outcome,
                finished ? figures : [.. figures.Select(m => m with { Value = double.NaN })], byCategory)
            {
                Workload = workload.Name,
                Finished = finished,
                // A VM backed on first touch holds what the host measured; one reserved whole, its
                // reservation (the parts beside it left out, as the density studies have counted it).
                MemoryBytes = guest.Container?.PeakChargedBytes
                    ?? (VmHostMemory.Of(samples, guest.Name) is { OnTouch: true } touched ? (ulong)touched.Total : guest.Context.Memory.SizeBytes),
            };
        }
    }
}
