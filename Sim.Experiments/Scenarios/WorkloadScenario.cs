using System.Globalization;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Platform;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Experiments.Scenarios;

/// <summary>
/// One workload on one machine: what a scenario file (or the command line) asks for. Every field
/// has a default, so an empty file is a valid scenario (forkwait's small cousin: the null system
/// call on the Pentium 4). The allowed values of each key are listed here, once, for both.
/// </summary>
public sealed record WorkloadScenario
{
    public static readonly IReadOnlyList<string> Presets = VirtualizationAxes.Presets;
    public static readonly string[] Disks = ["ssd", "hdd", "nvme"];
    public static readonly string[] DiskInterfaces = ["ahci", "ata-pio", "nvme"];

    /// <summary>The keys a scenario file may hold, in the order the schema documents them.</summary>
    public static readonly string[] Keys = ["workload", "profile", "preset", "cpu", "mmu", "io", "hosting", "size", "seed", "repetitions", "disk", "disk_interface", "nic",
        "shadow_cache_roots", "unshadow_after_writes", "unsync_shadow_pages", "shadow_prefetch", "translation_cache_kib", "inline_emulation", "large_ept_pages", "transparent_hugepages", "khugepaged_sleep_ms", "swap_mib", "virtio_backend", "virtio_transport", "iothread_cpu", "iothread_poll_max_ns", "container_memory_mib", "container_swap", "container_network", "container_cpus", "container_cpuset", "container_shares", "guests", "guest_workloads", "vcpus", "vcpu_weights", "vcpu_caps", "vcpu_pinning", "host_scheduler", "ple_window", "ple_gap", "pv_spinlocks", "pv_tlb_flush", "guest_memory_backing", "guest_boot_cache_mib", "guest_boot_anon_mib", "balloon_mib", "balloon_at_ms", "ksm_pages_to_scan", "ksm_sleep_ms", "host_swap_mib", "host_cores", "sockets", "cores_per_socket", "threads_per_core", "irq_cpu", "sync_quantum_ns", "host_processes", "request_rate", "jobs", "ioengine", "iodepth", "process_threads", "guest_memory_mib", "host_memory_mib", "time_limit_ms", "outputs"];

    /// <summary>The files of a results folder a scenario may leave out (scenario.json, manifest.json and summary.json are always written).</summary>
    public static readonly string[] OutputKinds = ["stats", "report", "plots"];

    public static readonly string[] VirtioBackends = ["user", "kernel"];

    /// <summary>The values <see cref="VirtioTransport"/> takes.</summary>
    public static readonly string[] VirtioTransports = ["pci", "mmio"];

    /// <summary>Where each VM's backend threads run: <c>vcpu</c>, its first virtual CPU's host CPU, or a host logical CPU's number (QEMU's I/O thread and vhost pinned there).</summary>
    public string IoThreadCpu { get; init; } = "vcpu";

    /// <summary>The longest QEMU's I/O thread polls its virtio-blk queue before it blocks (poll-max-ns; 0 never to poll). It polls only on a CPU of its own (<see cref="IoThreadCpu"/>).</summary>
    public long IoThreadPollMaxNs { get; init; } = MonitorParameters.DefaultIoThreadPollMaxNanoseconds;

    /// <summary>The host CPU <see cref="IoThreadCpu"/> names, null for <c>vcpu</c>, or -1 when it names none.</summary>
    private int? IoThreadCpuNumber => IoThreadCpu == "vcpu" ? null
        : int.TryParse(IoThreadCpu, NumberStyles.None, CultureInfo.InvariantCulture, out int cpu) ? cpu : -1;

    /// <summary>The host schedulers <see cref="HostScheduler"/> takes.</summary>
    public static readonly string[] HostSchedulers = ["default", "credit", "cfs"];

    public string Workload { get; init; } = "syscall";

    public string Profile { get; init; } = "p4-672";

    public string Preset { get; init; } = "native";

    /// <summary>CPU virtualization instead of the preset's (hardware-assist, binary-translation, ...); null keeps the preset's.</summary>
    public string? Cpu { get; init; }

    /// <summary>MMU virtualization instead of the preset's (nested, shadow, ...); null keeps the preset's.</summary>
    public string? Mmu { get; init; }

    /// <summary>I/O virtualization instead of the preset's (emulated, paravirtual, passthrough); null keeps the preset's.</summary>
    public string? Io { get; init; }

    /// <summary>Hosting instead of the preset's (bare-metal, hosted, shared-kernel); null keeps the preset's.</summary>
    public string? Hosting { get; init; }

    /// <summary>The workload's size; null for its default.</summary>
    public long? Size { get; init; }

    public ulong Seed { get; init; } = 42;

    /// <summary>Independent runs with seeds Seed, Seed + 1, ...: figures of merit are then reported with 95% confidence intervals.</summary>
    public int Repetitions { get; init; } = 1;

    public string Disk { get; init; } = "ssd";

    public string DiskInterface { get; init; } = "ahci";

    /// <summary>The machine's NIC natively and for containers: the e1000, one queue; or the 82599, a queue per CPU with receive-side scaling.</summary>
    public string Nic { get; init; } = "e1000";

    /// <summary>The values <see cref="Nic"/> takes.</summary>
    public static readonly string[] Nics = ["e1000", "82599"];

    /// <summary>Guest address spaces whose shadow page tables a monitor keeps (shadow paging).</summary>
    public int ShadowCacheRoots { get; init; } = MonitorParameters.Default.ShadowCacheRoots;

    /// <summary>Shadow paging's write-flood detection: writes with no use between after which a guest table stops being shadowed; 0 never.</summary>
    public int UnshadowAfterWrites { get; init; } = MonitorParameters.Default.UnshadowAfterWrites;

    /// <summary>Shadow paging lets guest leaf tables go out of sync (KVM's unsync shadow pages); null for the monitor's own (on for the bare-metal VT-x hypervisor).</summary>
    public bool? UnsyncShadowPages { get; init; }

    /// <summary>Shadow paging prefetches the shadow entries around a hidden fault (KVM's pte_prefetch); null for the monitor's own (on for the bare-metal VT-x hypervisor).</summary>
    public bool? ShadowPrefetch { get; init; }

    /// <summary>The binary translator's cache, in KiB.</summary>
    public int TranslationCacheKiB { get; init; } = MonitorParameters.Default.TranslationCacheKiB;

    /// <summary>Whether the binary translator emulates the simple sensitive instructions inside its translation cache (otherwise each calls out to the monitor).</summary>
    public bool InlineEmulation { get; init; } = MonitorParameters.Default.InlineEmulation;

    /// <summary>Whether the EPT maps guest memory with 2 MiB pages.</summary>
    public bool LargeEptPages { get; init; }

    /// <summary>Whether the Linux-like kernel maps anonymous memory with transparent huge pages: never or always (its /sys/kernel/mm/transparent_hugepage/enabled), in every kernel of the run (native, each VM's, the containers' host).</summary>
    public string TransparentHugePages { get; init; } = "never";

    /// <summary>khugepaged's sleep between batches, in milliseconds (Linux's default 10,000), with transparent huge pages.</summary>
    public double KhugepagedSleepMs { get; init; } = Sim.Models.Kernel.LinuxKernel.DefaultKhugepagedSleepMilliseconds;

    /// <summary>The swap area each Linux-like kernel of the run has at the end of its disk, in MiB (swapon of a partition); 0 for none, as before.</summary>
    public long SwapMiB { get; init; }

    /// <summary>The scenario without the containers' limits (a study's base holds them for its oslevel preset only).</summary>
    public WorkloadScenario WithoutContainerLimits() =>
        this with { ContainerMemoryMiB = null, ContainerCpus = null, ContainerCpuset = null, ContainerShares = null, ContainerSwap = true, ContainerNetwork = "bridge" };

    /// <summary>How each container's network namespace reaches the NIC: a veth pair into the host's bridge (Docker's default) or the host's namespace.</summary>
    public string ContainerNetwork { get; init; } = "bridge";

    /// <summary>The container network modes a scenario may name.</summary>
    public static readonly string[] ContainerNetworks = ["bridge", "host", "nat"];

    /// <summary>Whether a container's memory cgroup may send its pages to swap at its limit (cgroup v2's memory.swap.max: max, Linux's default, or 0), when the kernel has swap.</summary>
    public bool ContainerSwap { get; init; } = true;

    /// <summary>The largest swap area a scenario may ask for: 32 GiB, half the model's 64 GiB disk.</summary>
    public const long MostSwapMiB = 32 * 1024;

    /// <summary>The values <see cref="TransparentHugePages"/> takes (Linux's madvise is not modelled: no workload calls madvise).</summary>
    public static readonly string[] TransparentHugePagesModes = ["never", "always"];

    /// <summary>Where a hosted monitor's virtio backend runs: user (a QEMU-like process) or kernel (vhost).</summary>
    public string VirtioBackend { get; init; } = "user";

    /// <summary>How a VM's virtio disk and NIC interrupt: pci (virtio-pci's MSI-X, a message a notification, QEMU's default on x86) or mmio (virtio-mmio's line, InterruptStatus read and acknowledged).</summary>
    public string VirtioTransport { get; init; } = "pci";

    /// <summary>The container's memory limit in MiB (oslevel); null for none.</summary>
    public long? ContainerMemoryMiB { get; init; }

    /// <summary>Each container's CPU quota in CPUs (oslevel; Docker's --cpus), at most the host's logical CPUs; null for none.</summary>
    public double? ContainerCpus { get; init; }

    /// <summary>
    /// The CPUs each container may run on (oslevel; Docker's --cpuset-cpus), as Linux writes a CPU
    /// list ("0-3,8"); null for as many CPUs as the quota needs, given to the containers in turn,
    /// or every CPU without a quota.
    /// </summary>
    public string? ContainerCpuset { get; init; }

    /// <summary>
    /// The containers' CPU weights (oslevel; cpu.shares, Docker's --cpu-shares), a comma list whose
    /// k-th value is the k-th container's and whose last is every later one's ("2048,512": the
    /// first container twice the default, the others half); null for 1024 each.
    /// </summary>
    public string? ContainerShares { get; init; }

    /// <summary>The weights <see cref="ContainerShares"/> gives, or null when it is not given or not a list of whole numbers.</summary>
    private int[]? SharesList => WholeNumbers(ContainerShares);

    /// <summary>
    /// The virtual machines' virtual CPUs (VT-x presets with nested paging), a comma list whose
    /// k-th value is the k-th guest's and whose last is every later one's ("4,1": the first VM of
    /// four, the others of one); null for one each. The guest's SMP kernel runs on them.
    /// </summary>
    public string? Vcpus { get; init; }

    /// <summary>
    /// The virtual machines' credit-scheduler weights (VT-x presets; xl sched-credit -w), a comma
    /// list whose k-th value is the k-th guest's and whose last is every later one's ("512,256":
    /// the first VM twice the default, the others the default); null for 256 each.
    /// </summary>
    public string? VcpuWeights { get; init; }

    /// <summary>
    /// The virtual machines' credit-scheduler caps (VT-x presets; xl sched-credit -c), in percent
    /// of one CPU, a comma list whose k-th value is the k-th guest's and whose last is every later
    /// one's ("50,0": the first VM at most half a CPU, the others uncapped); null for no caps.
    /// </summary>
    public string? VcpuCaps { get; init; }

    /// <summary>
    /// The logical CPUs the virtual machines' virtual CPUs are pinned to (VT-x presets; xl
    /// vcpu-pin), a comma list whose k-th value is the k-th guest's ("1,1,2"); guests beyond it go
    /// on the next CPU in turn. Null for every guest in turn.
    /// </summary>
    public string? VcpuPinning { get; init; }

    /// <summary>
    /// The VT-x hypervisor's PAUSE-loop exiting window (VT-x presets): <c>default</c> (4096 TSC
    /// cycles, KVM's and Xen's, where the profile's CPU has PLE; none where it has not),
    /// <c>off</c>, or a number of TSC cycles.
    /// </summary>
    public string PleWindow { get; init; } = "default";

    /// <summary>The policy that schedules the virtual CPUs on the host's cores (VT-x presets): <c>credit</c>, Xen's credit scheduler, or <c>cfs</c>, Linux's CFS with each virtual CPU a thread of the host, as under KVM; <c>default</c>, credit bare-metal and cfs hosted.</summary>
    public string HostScheduler { get; init; } = "default";

    /// <summary>Whether the guests' kernels take their spinlocks paravirtually (KVM's pv ticket locks: halt after SPIN_THRESHOLD rounds, kicked by the unlocker's hypercall); VT-x presets.</summary>
    public bool PvSpinlocks { get; init; }

    /// <summary>Whether the VT-x hypervisor offers KVM's PV TLB flush (with steal time): a shootdown leaves a preempted virtual CPU's flush to the hypervisor instead of an IPI; VT-x presets.</summary>
    public bool PvTlbFlush { get; init; }

    /// <summary>How the VT-x hypervisor backs guest memory: preallocated (all of it before the guest starts) or on_touch (as the guest first touches it, as KVM does); nested paging.</summary>
    public string GuestMemoryBacking { get; init; } = "preallocated";

    /// <summary>The values <see cref="GuestMemoryBacking"/> takes.</summary>
    public static readonly string[] GuestMemoryBackings = ["preallocated", "on_touch"];

    /// <summary>Whether VM memory is backed on first touch (<see cref="GuestMemoryBacking"/> on_touch).</summary>
    public bool GuestMemoryOnTouch => GuestMemoryBacking == "on_touch";

    /// <summary>The page cache each VM's boot leaves from its image, in MiB (its base system's files; docs/virtualization.md, "A guest's base system").</summary>
    public long GuestBootCacheMiB { get; init; }

    /// <summary>The anonymous memory of the daemons each VM's boot starts, in MiB.</summary>
    public long GuestBootAnonMiB { get; init; }

    /// <summary>Each VM's base system as its boot leaves it, or null for none (the model's bare kernel).</summary>
    public Sim.Models.Kernel.BaseSystem? GuestBaseSystem => GuestBootCacheMiB + GuestBootAnonMiB > 0
        ? new("guest-image", (ulong)GuestBootCacheMiB << 20, (ulong)GuestBootAnonMiB << 20) : null;

    /// <summary>The memory the host asks each VM's balloon to hold, in MiB; null for no balloon (docs/virtualization.md, "Ballooning").</summary>
    public long? BalloonMiB { get; init; }

    /// <summary>When the host asks the balloons for their target, in simulated milliseconds from the start (ignored with <see cref="BalloonAtBoot"/>).</summary>
    public double BalloonAtMs { get; init; }

    /// <summary>Whether the host set the balloons' target as each VM booted (balloon_at_ms: boot): the run starts with them at their targets.</summary>
    public bool BalloonAtBoot { get; init; }

    /// <summary>The host merges guest pages of equal contents (KSM), ksmd scanning this many pages per batch; null for no merging (docs/virtualization.md, "Page sharing").</summary>
    public long? KsmPagesToScan { get; init; }

    /// <summary>ksmd's sleep between batches, in milliseconds (Linux's default 20).</summary>
    public double KsmSleepMs { get; init; } = MonitorParameters.DefaultKsmSleepMilliseconds;

    /// <summary>The host's swap area for guest memory, in MiB, where a VT-x host backs guest memory on first touch (docs/virtualization.md, "Host swap"); 0 for none. Natively and in containers it changes nothing (their kernel's swap is swap_mib).</summary>
    public long HostSwapMiB { get; init; }

    /// <summary>The PAUSE-loop exiting gap in TSC cycles (KVM's and Xen's default 128).</summary>
    public long PleGap { get; init; } = VmExecutionControls.DefaultPleGap;

    /// <summary>The PLE window <see cref="PleWindow"/> gives: null for the default, 0 for off, or its cycles; -1 when it is none of these.</summary>
    private long? PleWindowCycles => PleWindow switch
    {
        "default" => null,
        "off" => 0,
        _ => long.TryParse(PleWindow, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n is >= 1 and <= MonitorParameters.MostPleCycles ? n : -1,
    };

    /// <summary>The virtual CPUs <see cref="Vcpus"/> gives guest <paramref name="index"/> (the list's last value serves every later guest), 1 when it gives none.</summary>
    private int VcpusOfGuest(int index) => WholeNumbers(Vcpus) is { Length: > 0 } n ? n[Math.Min(index, n.Length - 1)] : 1;

    /// <summary>The whole numbers of a comma list, or null when it is not given or not such a list.</summary>
    private static int[]? WholeNumbers(string? list)
    {
        string[]? items = list?.Split(',', StringSplitOptions.TrimEntries);
        return items is null || items.Any(i => !int.TryParse(i, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            ? null : [.. items.Select(i => int.Parse(i, System.Globalization.CultureInfo.InvariantCulture))];
    }

    /// <summary>The CPUs <see cref="ContainerCpuset"/> names, ascending, or null when it is not given or not a CPU list.</summary>
    private int[]? CpusetCpus => ContainerCpuset is null ? null : CpuList.Parse(ContainerCpuset);

    /// <summary>The host's logical CPUs: its cores times their threads.</summary>
    private int LogicalCpus => PhysicalCores * ResolveTopology().ThreadsPerCore;

    /// <summary>Guests sharing the host, each a virtual machine with its own copy of the workload (VT-x hypervisors).</summary>
    public int Guests { get; init; } = 1;

    /// <summary>The workloads of the guests after the first, each a name or name:size, comma-separated (a list in a file); null when every guest runs the scenario's workload.</summary>
    public string? GuestWorkloads { get; init; }

    /// <summary>
    /// The host's physical cores, over which the guests are placed round-robin; null for the
    /// default (<see cref="HostCoresInUse"/>): natively, a process workload runs on the SMP kernel
    /// on all the profile's cores, one thread each; everything else on one core.
    /// </summary>
    public int? HostCores { get; init; }

    /// <summary>The keys the workload and the architecture come from, which the default host size follows.</summary>
    private static readonly string[] ArchitectureKeys = ["workload", "profile", "preset", "cpu", "mmu", "io", "hosting"];

    /// <summary>The host's physical cores: <see cref="HostCores"/> as given, or the default.</summary>
    public int HostCoresInUse => HostCores ?? DefaultHostCores;

    /// <summary>
    /// The profile's cores for a process workload run natively (the machine's whole SMP host, as
    /// a native benchmark runs); under a hypervisor, as many as the largest guest's virtual CPUs
    /// (so that one guest alone is not overcommitted; the VT-x presets place their guests on the
    /// cores they are given), at most the profile's; one otherwise: the minimal test kernel runs
    /// on one.
    /// </summary>
    private int DefaultHostCores =>
        !ArchitectureKeys.All(k => Problem(k) is null) ? 1
        : ResolveAxes().IsNative && Catalog(Workload).Workload is IProcessWorkload ? ResolveProfile().MostCores
        : Problem("vcpus") is null && WholeNumbers(Vcpus) is { } vcpus ? Math.Min(vcpus.Max(), ResolveProfile().MostCores)
        : 1;

    /// <summary>
    /// The host's sockets, cores per socket and hardware threads per core; null for the profile's.
    /// With none of the three given, the host is <see cref="HostCores"/> cores without SMT; with any,
    /// it is that whole shape, the others the profile's (<see cref="ResolveTopology"/>).
    /// </summary>
    public int? Sockets { get; init; }

    /// <inheritdoc cref="Sockets"/>
    public int? CoresPerSocket { get; init; }

    /// <inheritdoc cref="Sockets"/>
    public int? ThreadsPerCore { get; init; }

    private static readonly string[] TopologyKeys = ["sockets", "cores_per_socket", "threads_per_core"];

    private bool TopologyGiven => Sockets is not null || CoresPerSocket is not null || ThreadsPerCore is not null;

    /// <summary>
    /// The host's shape: the topology keys' (each the profile's when left out) when any is given,
    /// otherwise as many sockets as <see cref="HostCores"/> fill, of the profile's cores, one thread each.
    /// </summary>
    public Topology ResolveTopology()
    {
        Topology most = ResolveProfile().Topology;
        return TopologyGiven
            ? new Topology(Sockets ?? most.Sockets, CoresPerSocket ?? most.CoresPerSocket, ThreadsPerCore ?? most.ThreadsPerCore)
            : new Topology(most.SocketsFor(HostCoresInUse), most.CoresPerSocket, 1);
    }

    /// <summary>The logical CPU the host kernel routes device interrupts to (their affinity); natively and under oslevel.</summary>
    public int IrqCpu { get; init; }

    /// <summary>The host's physical cores in use: the topology's, or <see cref="HostCores"/>.</summary>
    private int PhysicalCores => TopologyGiven ? ResolveTopology().Cores : HostCoresInUse;

    /// <summary>On a host of several cores, how far a core may run ahead of the others, in nanoseconds (0: exact time order).</summary>
    public double SyncQuantumNs { get; init; } = MachineConfiguration.DefaultSyncQuantumNanoseconds;

    /// <summary>Hosted: CPU-bound processes of the host competing with the guests for the cores.</summary>
    public int HostProcesses { get; init; }

    /// <summary>Each guest's open-loop client rate, requests a second, for the services that have one (web); null for their closed-loop client.</summary>
    public double? RequestRate { get; init; }

    /// <summary>kernel-build's parallel jobs (make -j), or fio-randread's (numjobs: its queue depth); 1 for every other workload.</summary>
    public int Jobs { get; init; } = 1;

    /// <summary>fio-randread's engine (fio's ioengine): psync (a pread at a time a job) or libaio (io_submit and io_getevents, <see cref="IoDepth"/> reads in flight a job).</summary>
    public string IoEngine { get; init; } = "psync";

    public static readonly string[] IoEngines = ["psync", "libaio"];

    /// <summary>fio-randread's reads in flight a job under libaio (fio's iodepth); 1 under psync.</summary>
    public int IoDepth { get; init; } = 1;

    /// <summary>The threads of a threaded workload's process (web's workers, oltp's clients, lock-counter, mutex-counter, tlb-shootdown, stream-threads); 1 for the others.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Each guest's memory in MiB: a virtual machine's, reserved whole on the host; the machine's, natively.</summary>
    public long GuestMemoryMiB { get; init; } = (long)(MachineConfiguration.Default.MemoryBytes >> 20);

    /// <summary>The host's installed memory in MiB; null to size it to fit the guests.</summary>
    public long? HostMemoryMiB { get; init; }

    /// <summary>Simulated milliseconds after which the run stops even if workloads have not ended (their figures of merit are then NaN); null to run until they end.</summary>
    public long? TimeLimitMs { get; init; }

    /// <summary>What the results folder holds beyond the scenario, manifest and summary, comma-separated: stats (stats.csv, summary.csv), report (report.md), plots (the PNGs).</summary>
    public string Outputs { get; init; } = string.Join(",", OutputKinds);

    /// <summary>Whether the results folder holds <paramref name="kind"/> (one of <see cref="OutputKinds"/>).</summary>
    public bool Writes(string kind) => Outputs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains(kind);

    /// <summary>What is wrong with <paramref name="key"/>'s value, or null when it is allowed.</summary>
    public string? Problem(string key) => key switch
    {
        "workload" => WorkloadFile.Names(Workload) ? WorkloadFileProblem()
            : WorkloadCatalog.All.Any(w => w.Workload.Name == Workload) ? null
            : $"there is no workload '{Workload}'; see 'virtsim workloads' for the {WorkloadCatalog.All.Count} there are, or file:PATH for a workload file",
        "profile" => ProfileFile.Names(Profile) ? ProfileFileProblem()
            : HardwareProfiles.All.Any(p => p.Name == Profile) ? null
            : $"there is no hardware profile '{Profile}'; the profiles are: {string.Join(", ", HardwareProfiles.All.Select(p => p.Name))}, or file:PATH for a profile file",
        "preset" => Presets.Contains(Preset) ? null : $"there is no preset '{Preset}'; the presets are: {string.Join(", ", Presets)}",
        "cpu" => AxisProblem<CpuVirtualization>("cpu", Cpu),
        "mmu" => AxisProblem<MmuVirtualization>("mmu", Mmu),
        "io" => AxisProblem<IoVirtualization>("io", Io),
        "hosting" => AxisProblem<Hosting>("hosting", Hosting),
        "size" => Size is null or >= 1 ? null : $"size must be a positive whole number (got {Size})",
        "seed" => null,
        "repetitions" => Repetitions is >= 1 and <= 1000 ? null : $"repetitions must be 1 to 1000 (got {Repetitions})",
        "disk" => Array.IndexOf(Disks, Disk) < 0 ? $"there is no disk '{Disk}'; the disks are: {string.Join(", ", Disks)}" : null,
        "disk_interface" => Array.IndexOf(DiskInterfaces, DiskInterface) < 0
            ? $"there is no disk interface '{DiskInterface}'; the interfaces are: {string.Join(", ", DiskInterfaces)}" : null,
        "nic" => Array.IndexOf(Nics, Nic) < 0 ? $"there is no NIC '{Nic}'; the NICs are: {string.Join(", ", Nics)}" : null,
        "shadow_cache_roots" => ShadowCacheRoots is >= 1 and <= 4096 ? null : $"shadow_cache_roots must be 1 to 4096 (got {ShadowCacheRoots})",
        "unshadow_after_writes" => UnshadowAfterWrites is >= 0 and <= 1000 ? null : $"unshadow_after_writes must be 0 (never) to 1000 (got {UnshadowAfterWrites})",
        "translation_cache_kib" => TranslationCacheKiB is >= 1 and <= 1 << 20 ? null : $"translation_cache_kib must be 1 to 1048576 (got {TranslationCacheKiB})",
        "inline_emulation" or "large_ept_pages" or "pv_spinlocks" or "pv_tlb_flush" or "unsync_shadow_pages" or "shadow_prefetch" => null,
        "transparent_hugepages" => Array.IndexOf(TransparentHugePagesModes, TransparentHugePages) < 0
            ? $"there is no transparent_hugepages mode '{TransparentHugePages}'; the modes are: {string.Join(", ", TransparentHugePagesModes)}" : null,
        "swap_mib" => SwapMiB is >= 0 and <= MostSwapMiB ? null : $"swap_mib is the swap area of each Linux-like kernel, 0 (none) to {MostSwapMiB} MiB (got {SwapMiB})",
        "container_swap" => null,
        "container_network" => Array.IndexOf(ContainerNetworks, ContainerNetwork) < 0
            ? $"there is no container network '{ContainerNetwork}'; the modes are: {string.Join(", ", ContainerNetworks)}" : null,
        "khugepaged_sleep_ms" => KhugepagedSleepMs is > 0 and <= 3_600_000 ? null : $"khugepaged_sleep_ms is khugepaged's sleep between batches, more than 0 and at most 3600000 ms (got {KhugepagedSleepMs.ToString(System.Globalization.CultureInfo.InvariantCulture)})",
        "guest_memory_backing" => Array.IndexOf(GuestMemoryBackings, GuestMemoryBacking) < 0
            ? $"there is no guest memory backing '{GuestMemoryBacking}'; the backings are: {string.Join(", ", GuestMemoryBackings)}" : null,
        "guest_boot_cache_mib" or "guest_boot_anon_mib" => GuestBootCacheMiB >= 0 && GuestBootAnonMiB >= 0 && GuestBootCacheMiB + GuestBootAnonMiB < GuestMemoryMiB ? null
            : $"guest_boot_cache_mib and guest_boot_anon_mib are what a VM's boot leaves in its memory, 0 or more MiB each and together less than its guest_memory_mib of {GuestMemoryMiB} (got {GuestBootCacheMiB} and {GuestBootAnonMiB})",
        "balloon_mib" => BalloonMiB is null || (BalloonMiB >= 0 && BalloonMiB < GuestMemoryMiB) ? null
            : $"balloon_mib is the memory a VM's balloon holds, 0 to {GuestMemoryMiB - 1} MiB: less than its guest_memory_mib of {GuestMemoryMiB} (got {BalloonMiB})",
        "balloon_at_ms" => BalloonAtMs >= 0 && double.IsFinite(BalloonAtMs) ? null : $"balloon_at_ms must be 0 or more milliseconds, or boot (got {BalloonAtMs})",
        "ksm_pages_to_scan" => KsmPagesToScan is null or (>= 1 and <= MonitorParameters.MostKsmPagesToScan) ? null
            : $"ksm_pages_to_scan is the pages ksmd scans per batch, 1 to {MonitorParameters.MostKsmPagesToScan} (got {KsmPagesToScan}); leave it out for no merging",
        "host_swap_mib" => HostSwapMiB is >= 0 and <= MostSwapMiB ? null : $"host_swap_mib is the host's swap area for guest memory, 0 (none) to {MostSwapMiB} MiB (got {HostSwapMiB})",
        "ksm_sleep_ms" => KsmSleepMs > 0 && KsmSleepMs <= MonitorParameters.MostKsmSleepMilliseconds ? null
            : $"ksm_sleep_ms is ksmd's sleep between batches, more than 0 and at most {MonitorParameters.MostKsmSleepMilliseconds} ms (got {KsmSleepMs})",
        "host_scheduler" => Array.IndexOf(HostSchedulers, HostScheduler) < 0 ? $"there is no host scheduler '{HostScheduler}'; the host schedulers are: {string.Join(", ", HostSchedulers)}" : null,
        "iothread_poll_max_ns" => IoThreadPollMaxNs is >= 0 and <= MonitorParameters.MostIoThreadPollMaxNanoseconds ? null
            : $"iothread_poll_max_ns must be 0 (no polling) to {MonitorParameters.MostIoThreadPollMaxNanoseconds:N0} nanoseconds (got {IoThreadPollMaxNs}); QEMU's default is {MonitorParameters.DefaultIoThreadPollMaxNanoseconds:N0}",
        "iothread_cpu" => IoThreadCpuNumber is null || (IoThreadCpuNumber >= 0 && (Problem("profile") is not null || HostCoresProblem() is not null || IoThreadCpuNumber < LogicalCpus)) ? null
            : $"iothread_cpu is vcpu or one of the host's CPUs, 0 to {LogicalCpus - 1} (got {IoThreadCpu})",
        "virtio_backend" => Array.IndexOf(VirtioBackends, VirtioBackend) < 0 ? $"there is no virtio backend '{VirtioBackend}'; the backends are: {string.Join(", ", VirtioBackends)}" : null,
        "virtio_transport" => Array.IndexOf(VirtioTransports, VirtioTransport) < 0 ? $"there is no virtio transport '{VirtioTransport}'; the transports are: {string.Join(", ", VirtioTransports)}" : null,
        "container_memory_mib" => ContainerMemoryMiB is null or >= 1 ? null : $"container_memory_mib must be a positive whole number (got {ContainerMemoryMiB})",
        "container_cpus" => ContainerCpus is null || (ContainerCpus > 0 && (Problem("profile") is not null || HostCoresProblem() is not null || ContainerCpus <= LogicalCpus)) ? null
            : $"container_cpus must be more than 0 and at most the host's {LogicalCpus} CPU(s) (got {ContainerCpus})",
        "container_cpuset" => ContainerCpusetProblem(),
        "vcpu_weights" => VcpuWeights is null || WholeNumbers(VcpuWeights) is { } w && w.All(x => x is >= 1 and <= Models.Virtualization.VcpuPlacement.MostWeight) ? null
            : $"vcpu_weights must be a weight or a comma list of weights, each 1 to {Models.Virtualization.VcpuPlacement.MostWeight}, as xl sched-credit takes (got '{VcpuWeights}')",
        "vcpu_caps" => VcpuCaps is null || WholeNumbers(VcpuCaps) is { } c && c.Select((x, k) => x >= 0 && x <= Models.Virtualization.VcpuPlacement.MostCap * VcpusOfGuest(k)).All(ok => ok) ? null
            : $"vcpu_caps must be a cap or a comma list of caps, each 0 (none) to {Models.Virtualization.VcpuPlacement.MostCap} percent of one CPU for each virtual CPU of its VM, as xl sched-credit -c takes (got '{VcpuCaps}')",
        "vcpus" => Vcpus is null || WholeNumbers(Vcpus) is { } n && n.All(x => x is >= 1 and <= Runs.Consolidation.MostVcpus) ? null
            : $"vcpus must be a count or a comma list of counts, one per guest in order (the last for the rest), each 1 to {Runs.Consolidation.MostVcpus} (got '{Vcpus}')",
        "vcpu_pinning" => VcpuPinningProblem(),
        "ple_window" => PleWindowCycles != -1 ? null
            : $"ple_window must be default, off, or a window of 1 to {MonitorParameters.MostPleCycles} TSC cycles (got '{PleWindow}')",
        "ple_gap" => PleGap is >= 1 and <= MonitorParameters.MostPleCycles ? null : $"ple_gap must be 1 to {MonitorParameters.MostPleCycles} TSC cycles (got {PleGap})",
        "container_shares" => ContainerShares is null || SharesList is { } shares && shares.All(w => w is >= ContainerConfiguration.LeastShares and <= ContainerConfiguration.MostShares) ? null
            : $"container_shares must be a weight or a comma list of weights, each {ContainerConfiguration.LeastShares} to {ContainerConfiguration.MostShares}, as cpu.shares takes (got '{ContainerShares}')",
        "guests" => Guests is >= 1 and <= Runs.Consolidation.MaxGuests ? null : $"guests must be 1 to {Runs.Consolidation.MaxGuests} (got {Guests})",
        "guest_workloads" => GuestWorkloadsProblem(),
        "host_processes" => HostProcesses is >= 0 and <= Runs.Consolidation.MaxHostProcesses ? null : $"host_processes must be 0 to {Runs.Consolidation.MaxHostProcesses} (got {HostProcesses})",
        "host_cores" => HostCoresProblem(),
        "sockets" => TopologyProblem("sockets", Sockets, t => t.Sockets),
        "cores_per_socket" => TopologyProblem("cores_per_socket", CoresPerSocket, t => t.CoresPerSocket),
        "threads_per_core" => TopologyProblem("threads_per_core", ThreadsPerCore, t => t.ThreadsPerCore),
        "irq_cpu" => IrqCpu == 0 || (IrqCpu > 0 && (Problem("profile") is not null || HostCoresProblem() is not null || IrqCpu < LogicalCpus)) ? null
            : $"irq_cpu must be one of the host's CPUs, 0 to {LogicalCpus - 1} (got {IrqCpu})",
        "sync_quantum_ns" => SyncQuantumNs is >= 0 and <= Models.Memory.LineChannel.HorizonNanoseconds ? null
            : $"sync_quantum_ns must be 0 (exact order) to {Models.Memory.LineChannel.HorizonNanoseconds} nanoseconds (got {SyncQuantumNs})",
        "request_rate" => RequestRate switch
        {
            null => null,
            not (> 0 and < 1e9) => $"request_rate must be more than 0 and less than a billion requests a second (got {RequestRate})",
            _ when Problem("workload") is null && Catalog(Workload).Workload is not IOpenLoopWorkload =>
                $"request_rate is for the services with an open-loop client ({string.Join(", ", WorkloadCatalog.All.Where(w => w.Workload is IOpenLoopWorkload).Select(w => w.Workload.Name))}), not {Workload}",
            _ => null,
        },
        "jobs" => Jobs switch
        {
            not (>= 1 and <= 1024) => $"jobs must be 1 to 1024 (got {Jobs})",
            > 1 when Problem("workload") is null && Catalog(Workload).Workload is Sim.Workloads.Processes.FioRandRead { QueueDepth: > 1 } =>
                $"{Workload} has its queue depth in its name; for another depth use fio-randread with jobs (its numjobs) 1 to {Sim.Workloads.Processes.FioRandRead.MostJobs}",
            > Sim.Workloads.Processes.FioRandRead.MostJobs when Problem("workload") is null && Catalog(Workload).Workload is Sim.Workloads.Processes.FioRandRead =>
                $"fio-randread's jobs (numjobs: its queue depth) must be 1 to {Sim.Workloads.Processes.FioRandRead.MostJobs} (got {Jobs}); an AHCI adapter takes 32 commands at once and a virtqueue {Sim.Models.Devices.Virtqueue.Capacity}, the kernel's block queue holds the rest",
            > 1 when Problem("workload") is null && Catalog(Workload).Workload is not (Sim.Workloads.Processes.KernelBuild or Sim.Workloads.Processes.FioRandRead) =>
                $"jobs is make -j for kernel-build and numjobs for fio-randread, not {Workload}",
            _ => null,
        },
        "ioengine" => IoEngine switch
        {
            _ when Array.IndexOf(IoEngines, IoEngine) < 0 => $"there is no fio engine '{IoEngine}' here; the engines are: {string.Join(", ", IoEngines)}",
            "libaio" when Problem("workload") is null && Catalog(Workload).Workload is not Sim.Workloads.Processes.FioRandRead =>
                $"ioengine is fio-randread's engine, not {Workload}'s",
            "libaio" when Problem("workload") is null && Catalog(Workload).Workload is Sim.Workloads.Processes.FioRandRead { QueueDepth: > 1 } =>
                $"{Workload} is the psync engine's {((Sim.Workloads.Processes.FioRandRead)Catalog(Workload).Workload).Jobs} jobs; for libaio use fio-randread with iodepth and jobs",
            _ => null,
        },
        "iodepth" => IoDepth switch
        {
            not (>= 1 and <= Sim.Workloads.Processes.FioRandRead.MostIoDepth) =>
                $"iodepth must be 1 to {Sim.Workloads.Processes.FioRandRead.MostIoDepth} (got {IoDepth}): a libaio job's reads in flight, as many as its context's ring holds",
            > 1 when IoEngine != "libaio" => $"iodepth {IoDepth} needs ioengine: libaio; fio's psync engine has one read in flight a job (jobs sets how many jobs)",
            _ => null,
        },
        "process_threads" => Threads switch
        {
            not (>= 1 and <= 1024) => $"process_threads must be 1 to 1024 (got {Threads})",
            > 1 when Problem("workload") is null && Catalog(Workload).Workload is not IThreadedWorkload =>
                $"process_threads is for the threaded workloads ({string.Join(", ", WorkloadCatalog.All.Where(w => w.Workload is IThreadedWorkload).Select(w => w.Workload.Name))}), not {Workload}",
            _ => null,
        },
        "guest_memory_mib" => GuestMemoryMiB is >= 64 and <= 1 << 20 && GuestMemoryMiB % 2 == 0 ? null
            : $"guest_memory_mib must be an even number of MiB from 64 to 1048576 (got {GuestMemoryMiB})",
        "host_memory_mib" => HostMemoryMiB is null || (HostMemoryMiB is >= 64 and <= 1 << 24 && HostMemoryMiB % 2 == 0) ? null
            : $"host_memory_mib must be an even number of MiB from 64 to 16777216, or none (got {HostMemoryMiB})",
        "outputs" => Outputs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(o => Array.IndexOf(OutputKinds, o) < 0) is { } unknown
            ? $"there is no output '{unknown}'; the outputs are: {string.Join(", ", OutputKinds)} (scenario.json, manifest.json and summary.json are always written)"
            : null,
        "time_limit_ms" => TimeLimitMs is null or (>= 1 and <= 1_000_000_000) ? null : $"time_limit_ms must be a whole number of milliseconds from 1 to 1000000000, or none (got {TimeLimitMs})",
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "Not a scenario key."),
    };

    /// <summary>The host's cores are the first ones of the profile's machine, so at most its cores (one where the model has no coherence for the part).</summary>
    private string? HostCoresProblem()
    {
        if (Problem("profile") is not null)
        {
            return HostCores is null or (>= 1 and <= Runs.Consolidation.MaxHostCores) ? null : $"host_cores must be 1 to {Runs.Consolidation.MaxHostCores} (got {HostCores})";
        }
        HardwareProfile profile = ResolveProfile();
        int most = profile.MostCores;
        string why = profile.Coherence is null ? $"the model has no cache coherence for this part yet (the real one is {profile.Topology})" : $"{profile.Topology}";
        if (HostCores is < 1 || HostCores > most)
        {
            return $"host_cores must be 1 to {most} on {Profile}: {why} (got {HostCores})";
        }
        if (!TopologyGiven || TopologyKeys.Any(k => Problem(k) is not null))
        {
            return null;
        }
        return PhysicalCores > most ? $"sockets, cores_per_socket and threads_per_core give {PhysicalCores} cores ({ResolveTopology()}), but a machine of {Profile} uses 1 to {most}: {why}"
            : HostCores is { } given && given != 1 && given != PhysicalCores
            ? $"host_cores is {HostCores}, but sockets, cores_per_socket and threads_per_core give {PhysicalCores} cores ({ResolveTopology()}): give host_cores or the topology, not both"
            : null;
    }

    /// <summary>The cpuset must be a CPU list naming CPUs the host has.</summary>
    private string? VcpuPinningProblem()
    {
        if (VcpuPinning is null)
        {
            return null;
        }
        int[]? cpus = WholeNumbers(VcpuPinning);
        int guests = ResolveConsolidation().Guests;
        return cpus is null ? $"vcpu_pinning must be a CPU or a comma list of CPUs, one per guest in order, such as 1,1,2 (got '{VcpuPinning}')"
            : cpus.Length > guests ? $"vcpu_pinning names {cpus.Length} CPUs for {guests} guests: give one per guest at most (got '{VcpuPinning}')"
            : cpus.Max() >= LogicalCpus ? $"vcpu_pinning names CPU {cpus.Max()}, and the host has CPUs 0 to {LogicalCpus - 1} (got '{VcpuPinning}')"
            : Problem("vcpus") is null && Enumerable.Range(0, cpus.Length).Select(ResolveConsolidation().VcpusOf).Max() is var most && most > LogicalCpus
            ? $"vcpu_pinning gives a virtual machine's {most} virtual CPUs CPUs of their own from the pinned one on, and the host has {LogicalCpus}: give fewer vcpus or more host_cores"
            : null;
    }

    private string? ContainerCpusetProblem()
    {
        if (ContainerCpuset is null)
        {
            return null;
        }
        if (CpusetCpus is not { } cpus)
        {
            return $"container_cpuset must be a list of CPUs such as 0-3,8 (got '{ContainerCpuset}')";
        }
        if (Problem("profile") is not null || HostCoresProblem() is not null)
        {
            return null;
        }
        return cpus[^1] < LogicalCpus ? null : $"container_cpuset names CPU {cpus[^1]}, and the host has CPUs 0 to {LogicalCpus - 1} (got '{ContainerCpuset}')";
    }

    /// <summary>A topology key's value is 1 to the profile's; null (left out) is the profile's.</summary>
    private string? TopologyProblem(string key, int? value, Func<Topology, int> most)
    {
        if (value is null || Problem("profile") is not null)
        {
            return value is null or >= 1 ? null : $"{key} must be at least 1 (got {value})";
        }
        Topology part = ResolveProfile().Topology;
        return value >= 1 && value <= most(part) ? null : $"{key} must be 1 to {most(part)} on {Profile} ({part}) (got {value})";
    }

    /// <summary>The first problem of any key, then of the keys together, or null when the whole scenario can run.</summary>
    public string? FirstProblem() => Keys.Select(Problem).FirstOrDefault(p => p is not null) ?? CombinationProblem();

    /// <summary>
    /// What is wrong with the keys together (each being allowed on its own): a virtualization
    /// architecture the profile cannot run (nested paging without EPT) or whose model is not built.
    /// </summary>
    public string? CombinationProblem()
    {
        if (Keys.Any(k => Problem(k) is not null))
        {
            return null;
        }
        VirtualizationAxes axes = ResolveAxes();
        Runs.Consolidation consolidation = ResolveConsolidation();
        if (IrqCpu != 0 && !axes.IsNative && axes.Hosting != Models.Virtualization.Hosting.SharedKernel)
        {
            return $"irq_cpu routes the host kernel's device interrupts, and under preset '{Preset}' ({axes}) the host runs no kernel of its own here: leave it 0";
        }
        if ((ContainerMemoryMiB is not null || ContainerCpus is not null || ContainerCpuset is not null || ContainerShares is not null) && axes.Hosting != Models.Virtualization.Hosting.SharedKernel)
        {
            string key = ContainerMemoryMiB is not null ? "container_memory_mib" : ContainerCpus is not null ? "container_cpus" : ContainerCpuset is not null ? "container_cpuset" : "container_shares";
            return $"{key} limits a container, and preset '{Preset}' ({axes}) runs none; use preset oslevel or leave it out";
        }
        if ((Vcpus is not null || VcpuWeights is not null || VcpuCaps is not null || VcpuPinning is not null) && axes.Cpu != Models.Virtualization.CpuVirtualization.HardwareAssist)
        {
            return $"{(Vcpus is not null ? "vcpus" : VcpuWeights is not null ? "vcpu_weights" : VcpuCaps is not null ? "vcpu_caps" : "vcpu_pinning")} places the virtual CPUs of the VT-x hypervisor's scheduler, and preset '{Preset}' ({axes}) has none; use preset type1 or type2, or leave it out";
        }
        if ((PleWindow != "default" || PleGap != VmExecutionControls.DefaultPleGap) && axes.Cpu != Models.Virtualization.CpuVirtualization.HardwareAssist)
        {
            return $"{(PleWindow != "default" ? "ple_window" : "ple_gap")} sets the VT-x hypervisor's PAUSE-loop exiting, and preset '{Preset}' ({axes}) has none; use preset type1 or type2, or leave it out";
        }
        if (VirtioBackend == "kernel" && (axes.Cpu != Models.Virtualization.CpuVirtualization.HardwareAssist || axes.Io != Models.Virtualization.IoVirtualization.Paravirtual))
        {
            return $"virtio_backend kernel puts the virtio devices' backend in the host kernel (vhost), which needs virtio devices (io paravirtual) under a VT-x hypervisor (KVM's ioeventfd and irqfd), and preset '{Preset}' ({axes}) {(axes.Io != Models.Virtualization.IoVirtualization.Paravirtual ? "has no virtio devices" : "has no VT-x hypervisor")}; use preset type1 or type2 with io paravirtual, or leave it out";
        }
        if (VirtioTransport != "pci" && axes.Io != Models.Virtualization.IoVirtualization.Paravirtual)
        {
            return $"virtio_transport decides how the virtio devices interrupt, and preset '{Preset}' ({axes}) has none; use io paravirtual, or leave it out";
        }
        if (axes.Io == Models.Virtualization.IoVirtualization.Passthrough && Guests > Models.Platform.HostDevices.MostVirtualFunctions)
        {
            return $"io passthrough gives each of the {Guests} guests a virtual function of the host's NIC, and its port offers {Models.Platform.HostDevices.MostVirtualFunctions} (an Intel 82599 under Linux's ixgbe); use at most {Models.Platform.HostDevices.MostVirtualFunctions} guests, or io emulated or paravirtual";
        }
        if (IoThreadPollMaxNs != MonitorParameters.DefaultIoThreadPollMaxNanoseconds && (axes.Cpu != Models.Virtualization.CpuVirtualization.HardwareAssist
            || axes.Hosting != Models.Virtualization.Hosting.BareMetal || axes.Io != Models.Virtualization.IoVirtualization.Paravirtual || VirtioBackend != "user"))
        {
            return $"iothread_poll_max_ns sets how long QEMU's I/O thread polls its virtio-blk queue, which only preset type1 with io paravirtual and virtio_backend user has, and preset '{Preset}' ({axes}{(VirtioBackend != "user" ? ", virtio_backend " + VirtioBackend : "")}) has none; use preset type1 with io paravirtual, or leave it out";
        }
        bool kvmBackends = axes.Cpu == Models.Virtualization.CpuVirtualization.HardwareAssist && axes.Hosting == Models.Virtualization.Hosting.BareMetal
            && axes.Io != Models.Virtualization.IoVirtualization.Passthrough;
        bool dom0 = axes.Cpu == Models.Virtualization.CpuVirtualization.Paravirtual && axes.Io == Models.Virtualization.IoVirtualization.Paravirtual;
        if (IoThreadCpu != "vcpu" && !kvmBackends && !dom0)
        {
            return $"iothread_cpu pins the device backends (QEMU's I/O thread and vhost under preset type1 with emulated or paravirtual devices, dom0's netback and blkback under preset paravirt), and preset '{Preset}' ({axes}) has none; use preset type1 with io emulated or paravirtual, or paravirt, or leave it out";
        }
        if (HostScheduler != "default" && axes.Cpu != Models.Virtualization.CpuVirtualization.HardwareAssist)
        {
            return $"host_scheduler chooses the VT-x hypervisor's scheduler of virtual CPUs, and preset '{Preset}' ({axes}) has none; use preset type1 or type2, or leave it out";
        }
        if (ResolveMonitorParameters().SchedulerFor(axes.Hosting) == Models.Virtualization.HostScheduler.Cfs && WholeNumbers(VcpuCaps) is { } capped && capped.Any(c => c > 0))
        {
            return $"vcpu_caps under the CFS host scheduler ({(HostScheduler == "cfs" ? "host_scheduler cfs" : $"preset '{Preset}''s default")}) would need CFS bandwidth control (cpu.cfs_quota_us), which the model does not have; use host_scheduler credit, or leave the caps out";
        }
        if (PvSpinlocks && axes.Cpu != Models.Virtualization.CpuVirtualization.HardwareAssist)
        {
            return $"pv_spinlocks are KVM's paravirtual spinlocks, whose kick is a hypercall of the VT-x hypervisor, and preset '{Preset}' ({axes}) has none; use preset type1 or type2, or leave it out";
        }
        if ((UnsyncShadowPages is not null || ShadowPrefetch is not null) && axes.Mmu != Models.Virtualization.MmuVirtualization.Shadow)
        {
            return $"unsync_shadow_pages and shadow_prefetch are mechanisms of shadow paging, and preset '{Preset}' on {Profile} ({axes}) has {AxisNames.Of(axes.Mmu)} paging; add mmu: shadow, or leave them out";
        }
        if (PvTlbFlush && axes.Cpu != Models.Virtualization.CpuVirtualization.HardwareAssist)
        {
            return $"pv_tlb_flush is KVM's paravirtual TLB flush, done by the VT-x hypervisor at a virtual CPU's entry, and preset '{Preset}' ({axes}) has none; use preset type1 or type2, or leave it out";
        }
        // Natively and in containers there is no virtual machine to back, and the key changes
        // nothing (so a study's base may hold it for its VM presets); a VM without EPT cannot.
        if (GuestMemoryOnTouch && !axes.IsNative && axes.Hosting != Models.Virtualization.Hosting.SharedKernel && axes.Mmu != Models.Virtualization.MmuVirtualization.Nested)
        {
            return $"guest_memory_backing on_touch backs a page at the EPT violation of its first touch, so it needs nested paging, and preset '{Preset}' on {Profile} ({axes}) has {AxisNames.Of(axes.Mmu)} paging; use preset type1 or type2 on a profile with EPT (such as nehalem-x5570), or leave it preallocated";
        }
        if (!ContainerSwap && axes.Hosting != Models.Virtualization.Hosting.SharedKernel)
        {
            return $"container_swap decides whether a container may swap, and preset '{Preset}' ({axes}) runs none; use preset oslevel or leave it out";
        }
        if (ContainerNetwork != "bridge" && axes.Hosting != Models.Virtualization.Hosting.SharedKernel)
        {
            return $"container_network decides how a container reaches the NIC, and preset '{Preset}' ({axes}) runs none; use preset oslevel or leave it out";
        }
        if (Nic != "e1000" && !axes.IsNative && axes.Hosting != Models.Virtualization.Hosting.SharedKernel)
        {
            return $"nic {Nic} is the machine's own multi-queue NIC, and under preset '{Preset}' ({axes}) the guest's NIC is the monitor's (an emulated e1000, virtio-net, or an assigned function); use preset native or oslevel, or leave it out";
        }
        if (DiskInterface == "nvme" && !axes.IsNative && axes.Hosting != Models.Virtualization.Hosting.SharedKernel && axes.Io == Models.Virtualization.IoVirtualization.Emulated)
        {
            return $"disk_interface nvme gives the machine an NVMe controller, and under preset '{Preset}' ({axes}) the guest's disk would be an emulated one: QEMU's emulated NVMe is not modelled; use io passthrough (the controller assigned), io paravirtual (virtio-blk), or disk_interface ahci";
        }
        if (SwapMiB > 0 && DiskInterface == "ata-pio")
        {
            return $"swap_mib puts a swap area on the disk, and disk_interface {DiskInterface} takes one request at a time while reclaim writes many; use disk_interface ahci or nvme, or leave swap_mib 0";
        }
        if (KhugepagedSleepMs != Sim.Models.Kernel.LinuxKernel.DefaultKhugepagedSleepMilliseconds && TransparentHugePages != "always")
        {
            return $"khugepaged_sleep_ms sets khugepaged, which collapses pages into transparent huge pages, and this scenario has transparent_hugepages {TransparentHugePages}; set transparent_hugepages always, or leave khugepaged_sleep_ms out";
        }
        if (LargeEptPages && !axes.IsNative && axes.Hosting != Models.Virtualization.Hosting.SharedKernel && axes.Mmu != Models.Virtualization.MmuVirtualization.Nested)
        {
            return $"large_ept_pages maps guest memory with 2 MiB EPT pages, and preset '{Preset}' on {Profile} ({axes}) has {AxisNames.Of(axes.Mmu)} paging, no EPT to hold them; use preset type1 or type2 on a profile with EPT (such as nehalem-x5570), or leave it false";
        }
        // The balloon and page merging both work on a VM's pages one by one, where a VT-x host backs them on first touch (splitting a 2 MiB region backed whole where they take one page of it).
        bool perPage = !axes.IsNative && axes.Hosting != Models.Virtualization.Hosting.SharedKernel && axes.Cpu == Models.Virtualization.CpuVirtualization.HardwareAssist
            && axes.Mmu == Models.Virtualization.MmuVirtualization.Nested && GuestMemoryOnTouch;
        string PerPageProblem(string key, string what) =>
            $"{key}: {what} a VT-x host that backs them on first touch, and this scenario has preset '{Preset}' on {Profile} ({axes}), guest_memory_backing {GuestMemoryBacking}; use preset type1 or type2 on a profile with EPT and guest_memory_backing on_touch, or leave {key} out";
        if (BalloonMiB is not null && !perPage)
        {
            return PerPageProblem("balloon_mib", "the balloon gives guest pages back to");
        }
        if (KsmPagesToScan is not null && !perPage)
        {
            return PerPageProblem("ksm_pages_to_scan", "page merging maps a VM's guest pages one by one onto shared frames of");
        }
        // Natively and in containers the key changes nothing (their kernel's swap is swap_mib), so a study's base may hold it for its VM presets.
        if (HostSwapMiB > 0 && !axes.IsNative && axes.Hosting != Models.Virtualization.Hosting.SharedKernel)
        {
            if (!perPage)
            {
                return PerPageProblem("host_swap_mib", "host swap sends a VM's guest pages to swap one by one from");
            }
            if (LargeEptPages)
            {
                return "host_swap_mib: the host swaps guest memory in 4 KiB pages, and large_ept_pages maps it in 2 MiB EPT pages (the host's swap of transparent huge pages is not modelled); leave large_ept_pages false, or host_swap_mib 0";
            }
        }
        if (PleWindowCycles > 0 && !ResolveProfile().Features.PauseLoopExiting)
        {
            return $"ple_window: {Profile}'s CPU has no PAUSE-loop exiting (it came after the first Nehalems; of the profiles, {string.Join(", ", HardwareProfiles.All.Where(p => p.Features.PauseLoopExiting).Select(p => p.Name))} has it); leave ple_window default or off";
        }
        (IWorkload workload, long size) = ResolveWorkload();
        IDataWorkload? data = workload as IDataWorkload ?? (workload as Sim.Workloads.Processes.LinuxProcess)?.Data;
        if (data is not null && data.DataBytes(size) >= ResolveMachine().MemoryBytes)
        {
            return $"{Workload} at size {size} touches {data.DataBytes(size) >> 20} MiB of data, more than the machine's {GuestMemoryMiB} MiB of memory; lower size or raise guest_memory_mib";
        }
        return Runs.WorkloadRun.Problem(ResolveProfile(), ResolveWorkload().Workload, axes, consolidation, ResolveTopology().ThreadsPerCore) is { } p ? $"preset '{Preset}' on {Profile} ({axes}): {p}"
            : consolidation.HostMemoryBytes is { } host && Runs.WorkloadRun.MemoryProblem(axes, consolidation, host, ResolveMachine().MemoryBytes, ResolveMonitorParameters()) is { } m ? $"the guests do not fit: {m}"
            : null;
    }

    /// <summary>
    /// The results folder's name under runs/ when none is given: workload, profile and preset, or,
    /// when axes were set apart from the preset, the four axes (a run under binary translation is
    /// not filed as native).
    /// </summary>
    public string DefaultFolderName()
    {
        VirtualizationAxes axes = ResolveAxes();
        string architecture = axes == VirtualizationAxes.ForPreset(Preset, ResolveProfile()) ? Preset
            : $"{AxisNames.Of(axes.Cpu)}-{AxisNames.Of(axes.Mmu)}-{AxisNames.Of(axes.Io)}-{AxisNames.Of(axes.Hosting)}";
        return $"{WorkloadName}-{ProfileName}-{architecture}";
    }

    public MonitorParameters ResolveMonitorParameters() => new(ShadowCacheRoots, TranslationCacheKiB, LargeEptPages, VirtioBackend == "kernel", InlineEmulation, UnshadowAfterWrites,
        PleWindowCycles is { } window ? (uint)window : null, (uint)PleGap, PvSpinlocks, PvTlbFlush,
        HostScheduler switch { "cfs" => Models.Virtualization.HostScheduler.Cfs, "credit" => Models.Virtualization.HostScheduler.Credit, _ => null },
        GuestMemoryOnTouch, BalloonMiB is { } balloon ? (ulong)balloon << 20 : null, BalloonAtBoot ? null : BalloonAtMs, (int?)KsmPagesToScan, KsmSleepMs,
        HostSwapBytes: GuestMemoryOnTouch && !LargeEptPages ? (ulong)HostSwapMiB << 20 : 0, IoThreadCpu: IoThreadCpuNumber, IoThreadPollMaxNanoseconds: IoThreadPollMaxNs,
        UnsyncShadowPages: UnsyncShadowPages, ShadowPrefetch: ShadowPrefetch);

    public Runs.Consolidation ResolveConsolidation()
    {
        Runs.GuestWorkload[] others = [.. OtherGuests()];
        return new(others.Length > 0 ? others.Length + 1 : Guests, PhysicalCores, HostProcesses, others)
        {
            HostMemoryBytes = HostMemoryMiB is { } mib ? (ulong)mib << 20 : null,
            GuestBaseSystem = GuestBaseSystem,
            TransparentHugePages = TransparentHugePages == "always",
            KhugepagedSleepMilliseconds = KhugepagedSleepMs,
            SwapBytes = (ulong)SwapMiB << 20,
            VcpuWeights = WholeNumbers(VcpuWeights),
            VcpuCaps = WholeNumbers(VcpuCaps),
            VcpuPinning = WholeNumbers(VcpuPinning),
            Vcpus = WholeNumbers(Vcpus),
        };
    }

    /// <summary>The other guests' workloads, sizes and rates, from <see cref="GuestWorkloads"/>.</summary>
    private IEnumerable<Runs.GuestWorkload> OtherGuests()
    {
        foreach (GuestItem item in GuestItems())
        {
            (IWorkload workload, long size) = Catalog(item.Workload);
            yield return new Runs.GuestWorkload(Parameterized(workload, item.Rate ?? RequestRate), item.Size ?? size);
        }
    }

    /// <summary>
    /// One entry of <see cref="GuestWorkloads"/>: <c>NAME[:SIZE][@RATE]</c>, NAME a built-in
    /// workload or <c>file:PATH</c>; the text that did not read as a size or a rate is kept in
    /// <see cref="Bad"/>.
    /// </summary>
    private sealed record GuestItem(string Text, string Workload, long? Size, double? Rate, string? Bad);

    private IEnumerable<GuestItem> GuestItems()
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        foreach (string text in (GuestWorkloads ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string rest = text;
            double? rate = null;
            string? bad = null;
            if (rest.LastIndexOf('@') is var at and >= 0)
            {
                (rate, bad) = double.TryParse(rest[(at + 1)..], System.Globalization.NumberStyles.Float, ci, out double r) && double.IsFinite(r) && r > 0 ? (r, null) : ((double?)null, rest[at..]);
                rest = rest[..at];
            }
            long? size = null;
            int colon = rest.LastIndexOf(':');
            bool sized = colon >= 0 && !(WorkloadFile.Names(rest) && colon == WorkloadFile.Prefix.Length - 1); // file:PATH's own colon is no size
            if (sized)
            {
                (size, bad) = long.TryParse(rest[(colon + 1)..], System.Globalization.NumberStyles.Integer, ci, out long n) && n >= 1 ? (n, bad) : ((long?)null, bad ?? rest[colon..]);
                rest = rest[..colon];
            }
            yield return new GuestItem(text, rest, size, rate, bad);
        }
    }

    private string? GuestWorkloadsProblem()
    {
        if (GuestWorkloads is null)
        {
            return null;
        }
        GuestItem[] items = [.. GuestItems()];
        if (items.Length == 0)
        {
            return "guest_workloads lists the other guests' workloads (name, name:size, name@rate or name:size@rate), at least one";
        }
        foreach (GuestItem item in items)
        {
            if (item.Bad is { } bad)
            {
                return $"guest_workloads: '{item.Text}' is not a workload with a size and a rate: '{bad}' is neither ':' and a positive whole size nor '@' and a positive rate in requests a second";
            }
            if (WorkloadFile.Names(item.Workload))
            {
                if ((this with { Workload = item.Workload }).WorkloadFileProblem() is { } file)
                {
                    return $"guest_workloads: {file}";
                }
            }
            else if (WorkloadCatalog.All.All(w => w.Workload.Name != item.Workload))
            {
                return $"guest_workloads: there is no workload '{item.Workload}'; see 'virtsim workloads', or give file:PATH for a workload file";
            }
            if (item.Rate is not null && Catalog(item.Workload).Workload is not IOpenLoopWorkload)
            {
                return $"guest_workloads: '{item.Text}' gives a request rate, and {item.Workload} has no open-loop client to send at one; the services that have: {string.Join(", ", WorkloadCatalog.All.Where(w => w.Workload is IOpenLoopWorkload).Select(w => w.Workload.Name))} and workload files";
            }
        }
        return Guests != 1 && Guests != items.Length + 1
            ? $"guests is {Guests} but guest_workloads gives {items.Length + 1} guests (the scenario's workload and {items.Length} others); give one or the other"
            : null;
    }

    /// <summary>The SHA-256 of each workload file <see cref="GuestWorkloads"/> names, in order of first mention.</summary>
    private string[] GuestFileChecksums() =>
        [.. GuestItems().Select(i => i.Workload).Where(WorkloadFile.Names).Distinct(StringComparer.Ordinal).Select(w => $"{w[WorkloadFile.Prefix.Length..]} {WorkloadFile.Sha256Of(w)}")];

    public ContainerConfiguration ResolveContainers() => ContainerConfiguration.Default with
    {
        MemoryLimitBytes = ContainerMemoryMiB is { } mib ? (ulong)mib << 20 : null,
        MaySwap = ContainerSwap,
        Network = ContainerNetwork switch { "host" => Models.Kernel.ContainerNetwork.Host, "nat" => Models.Kernel.ContainerNetwork.Nat, _ => Models.Kernel.ContainerNetwork.Bridge },
        CpuQuota = ContainerCpus,
        Cpuset = CpusetCpus,
        Shares = SharesList,
    };

    /// <summary>The preset's axes on the profile, with the scenario's overrides.</summary>
    public VirtualizationAxes ResolveAxes() => VirtualizationAxes.Resolve(Preset, ResolveProfile(),
        Cpu is null ? null : AxisNames.Parse<CpuVirtualization>(Cpu), Mmu is null ? null : AxisNames.Parse<MmuVirtualization>(Mmu),
        Io is null ? null : AxisNames.Parse<IoVirtualization>(Io), Hosting is null ? null : AxisNames.Parse<Hosting>(Hosting));

    private static string? AxisProblem<TAxis>(string key, string? value)
        where TAxis : struct, Enum =>
        value is null || AxisNames.Parse<TAxis>(value) is not null ? null
            : $"there is no {key} virtualization '{value}'; the choices are: {string.Join(", ", AxisNames.All<TAxis>())}";

    public (IWorkload Workload, long Size) ResolveWorkload()
    {
        (IWorkload workload, long defaultSize) = Catalog(Workload);
        return (Parameterized(workload, RequestRate), Size ?? defaultSize);
    }

    /// <summary>The workload with the scenario's parameters: a service at <paramref name="requestRate"/> (when it has an open-loop client and a rate is given), a build with its jobs, a threaded workload with its threads.</summary>
    private IWorkload Parameterized(IWorkload workload, double? requestRate)
    {
        if (workload is IOpenLoopWorkload open && requestRate is { } rate)
        {
            workload = open.AtRate(rate);
        }
        return workload switch
        {
            Sim.Workloads.Processes.KernelBuild build => build.WithJobs(Jobs),
            Sim.Workloads.Processes.FioRandRead when Jobs > 1 || IoEngine == "libaio" =>
                new Sim.Workloads.Processes.FioRandRead(Jobs, IoEngine == "libaio" ? Sim.Workloads.Processes.FioEngine.Libaio : Sim.Workloads.Processes.FioEngine.Psync, IoDepth),
            Sim.Workloads.Processes.Service file when Threads == 1 => file, // the file's worker threads, unless the scenario gives others
            IThreadedWorkload threaded => threaded.WithThreads(Threads),
            _ => workload,
        };
    }

    /// <summary>Runs the scenario once, with <paramref name="seed"/>; <paramref name="progress"/> hears the simulated time and events now and then (<see cref="Runs.WorkloadRun.PreparedRun.Execute"/>).</summary>
    public Runs.WorkloadRunResult RunOnce(ulong seed, Action<Engine.Time.Tick, ulong>? progress = null)
    {
        (IWorkload workload, long size) = ResolveWorkload();
        return Runs.WorkloadRun.Run(ResolveProfile(), workload, size, seed, ResolveMachine(), ResolveAxes(), ResolveMonitorParameters(), ResolveContainers(), ResolveConsolidation(),
            TimeLimitMs is { } ms ? Engine.Time.Tick.FromMilliseconds((ulong)ms) : null, progress);
    }

    /// <summary>The scenario's machine built and its workloads loaded, not yet run (to watch it with a tracer, then <see cref="Runs.WorkloadRun.PreparedRun.Execute"/>).</summary>
    public Runs.WorkloadRun.PreparedRun Prepare(ulong seed)
    {
        (IWorkload workload, long size) = ResolveWorkload();
        return Runs.WorkloadRun.Prepare(ResolveProfile(), workload, size, seed, ResolveMachine(), ResolveAxes(), ResolveMonitorParameters(), ResolveContainers(), ResolveConsolidation());
    }

    /// <summary>The hardware profile: a built-in one, or the one a file describes (<c>file:PATH</c>, <see cref="ProfileFile"/>).</summary>
    public HardwareProfile ResolveProfile() => ProfileFile.Names(Profile) ? ProfileFile.Load(Profile) : HardwareProfiles.Get(Profile);

    /// <summary>The profile's name: a built-in one's, or the name its file gives.</summary>
    public string ProfileName => ProfileFile.Names(Profile) ? ResolveProfile().Name : Profile;

    /// <summary>The workload's name: a built-in one's, or the service a workload file names.</summary>
    public string WorkloadName => WorkloadFile.Names(Workload) && Problem("workload") is null ? WorkloadFile.Load(Workload).Name : Workload;

    /// <summary>Why the workload file cannot be used, or null.</summary>
    private string? WorkloadFileProblem()
    {
        try
        {
            _ = WorkloadFile.Load(Workload);
            return null;
        }
        catch (ScenarioException e)
        {
            return e.Message;
        }
    }

    /// <summary>A built-in workload by name, or the service of a workload file (<c>file:PATH</c>), with the size a run uses when none is given.</summary>
    private static (IWorkload Workload, long DefaultSize) Catalog(string name) =>
        WorkloadFile.Names(name) ? (WorkloadFile.Load(name), WorkloadFile.DefaultSize) : WorkloadCatalog.Get(name);

    /// <summary>Why the profile file cannot be used, or null.</summary>
    private string? ProfileFileProblem()
    {
        try
        {
            _ = ProfileFile.Load(Profile);
            return null;
        }
        catch (ScenarioException e)
        {
            return e.Message;
        }
    }

    public MachineConfiguration ResolveMachine() => MachineConfiguration.Default with
    {
        MemoryBytes = (ulong)GuestMemoryMiB << 20,
        CoresPerSocket = TopologyGiven ? ResolveTopology().CoresPerSocket : null,
        ThreadsPerCore = ResolveTopology().ThreadsPerCore,
        IrqCpu = IrqCpu,
        SyncQuantumNanoseconds = SyncQuantumNs,
        Disk = Disk switch { "ssd" => DiskKind.SolidState, "nvme" => DiskKind.Nvme, _ => DiskKind.Rotating },
        DiskInterface = DiskInterface switch { "ahci" => Models.Platform.DiskInterface.Ahci, "nvme" => Models.Platform.DiskInterface.Nvme, _ => Models.Platform.DiskInterface.AtaPio },
        Network = Nic == "82599" ? NetworkInterface.Ixgbe : NetworkInterface.E1000,
        VirtioTransport = VirtioTransport == "mmio" ? Models.Devices.VirtioTransport.Mmio : Models.Devices.VirtioTransport.Pci,
    };

    /// <summary>The fully resolved scenario, as written beside the results.</summary>
    public IReadOnlyDictionary<string, object> Resolved()
    {
        Dictionary<string, object> resolved = ResolvedKeys();
        VirtualizationAxes axes = ResolveAxes();
        if (axes.Mmu == Models.Virtualization.MmuVirtualization.Shadow)
        {
            bool lazy = MonitorParameters.LazyShadowMmu(axes.Cpu, axes.Hosting); // the monitor's own, where the file leaves them out
            resolved["unsync_shadow_pages"] = UnsyncShadowPages ?? lazy;
            resolved["shadow_prefetch"] = ShadowPrefetch ?? lazy;
        }
        if (ProfileFile.Names(Profile))
        {
            resolved["profile_sha256"] = ProfileFile.Sha256Of(Profile); // the planner's host file as it was, beside its name
        }
        if (WorkloadFile.Names(Workload))
        {
            resolved["workload_sha256"] = WorkloadFile.Sha256Of(Workload); // the planner's service file as it was
        }
        if (GuestWorkloadsProblem() is null && GuestFileChecksums() is { Length: > 0 } files)
        {
            resolved["guest_workloads_sha256"] = files; // the other guests' service files as they were
        }
        return resolved;
    }

    private Dictionary<string, object> ResolvedKeys() => new()
    {
        ["workload"] = Workload,
        ["profile"] = Profile,
        ["preset"] = Preset,
        ["cpu"] = AxisNames.Of(ResolveAxes().Cpu),
        ["mmu"] = AxisNames.Of(ResolveAxes().Mmu),
        ["io"] = AxisNames.Of(ResolveAxes().Io),
        ["hosting"] = AxisNames.Of(ResolveAxes().Hosting),
        ["shadow_cache_roots"] = ShadowCacheRoots,
        ["unshadow_after_writes"] = UnshadowAfterWrites,
        ["translation_cache_kib"] = TranslationCacheKiB,
        ["inline_emulation"] = InlineEmulation,
        ["large_ept_pages"] = LargeEptPages,
        ["transparent_hugepages"] = TransparentHugePages,
        ["khugepaged_sleep_ms"] = KhugepagedSleepMs,
        ["swap_mib"] = SwapMiB,
        ["virtio_backend"] = VirtioBackend,
        ["virtio_transport"] = VirtioTransport,
        ["iothread_cpu"] = IoThreadCpu,
        ["iothread_poll_max_ns"] = IoThreadPollMaxNs,
        ["container_memory_mib"] = ContainerMemoryMiB is { } m ? m : "none",
        ["container_swap"] = ContainerSwap,
        ["container_network"] = ContainerNetwork,
        ["container_cpus"] = ContainerCpus is { } cpus ? cpus : "none",
        ["container_cpuset"] = ContainerCpuset ?? "none",
        ["container_shares"] = SharesList is { } weights ? string.Join(",", weights) : "none",
        ["guests"] = Guests,
        ["guest_workloads"] = GuestWorkloads ?? "none",
        ["vcpus"] = WholeNumbers(Vcpus) is { } vcpus ? string.Join(",", vcpus) : "none",
        ["vcpu_weights"] = WholeNumbers(VcpuWeights) is { } vcpuWeights ? string.Join(",", vcpuWeights) : "none",
        ["vcpu_caps"] = WholeNumbers(VcpuCaps) is { } caps ? string.Join(",", caps) : "none",
        ["vcpu_pinning"] = WholeNumbers(VcpuPinning) is { } pins ? string.Join(",", pins) : "none",
        ["host_scheduler"] = HostScheduler,
        ["ple_window"] = PleWindow, // as given: default means the profile's CPU decides
        ["ple_gap"] = PleGap,
        ["pv_spinlocks"] = PvSpinlocks,
        ["pv_tlb_flush"] = PvTlbFlush,
        ["guest_memory_backing"] = GuestMemoryBacking,
        ["guest_boot_cache_mib"] = GuestBootCacheMiB,
        ["guest_boot_anon_mib"] = GuestBootAnonMiB,
        ["balloon_mib"] = BalloonMiB is { } balloonMib ? balloonMib : "none",
        ["balloon_at_ms"] = BalloonAtBoot ? "boot" : BalloonAtMs,
        ["ksm_pages_to_scan"] = KsmPagesToScan is { } ksmPages ? ksmPages : "none",
        ["ksm_sleep_ms"] = KsmSleepMs,
        ["host_swap_mib"] = HostSwapMiB,
        ["host_cores"] = HostCores is { } cores ? cores : "none", // as given: left out, the preset and workload decide (a study's base serves several presets)
        ["sockets"] = Sockets is { } sockets ? sockets : "none", // as given: left out, host_cores shapes the host
        ["cores_per_socket"] = CoresPerSocket is { } perSocket ? perSocket : "none",
        ["threads_per_core"] = ThreadsPerCore is { } threads ? threads : "none",
        ["irq_cpu"] = IrqCpu,
        ["sync_quantum_ns"] = SyncQuantumNs,
        ["host_processes"] = HostProcesses,
        ["request_rate"] = RequestRate is { } rate ? rate : "none",
        ["jobs"] = Jobs,
        ["ioengine"] = IoEngine,
        ["iodepth"] = IoDepth,
        ["process_threads"] = Threads,
        ["guest_memory_mib"] = GuestMemoryMiB,
        ["host_memory_mib"] = HostMemoryMiB is { } host ? host : "none",
        ["time_limit_ms"] = TimeLimitMs is { } limit ? limit : "none",
        ["outputs"] = OutputKinds.Where(Writes).ToArray(),
        ["size"] = ResolveWorkload().Size,
        ["seed"] = Seed,
        ["repetitions"] = Repetitions,
        ["disk"] = Disk,
        ["disk_interface"] = DiskInterface,
        ["nic"] = Nic,
    };
}
