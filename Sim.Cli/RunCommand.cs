using System.CommandLine;
using System.Globalization;
using Sim.Experiments.Scenarios;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim run</c>: with no arguments, the tour (<see cref="TourRunner"/>): a few workloads
/// natively and under the five architectures, the slowdowns, the exits and where the cycles go;
/// with <c>--workload</c> or a scenario file, one workload on the machine model, natively or under
/// a preset, with its results folder.
/// </summary>
internal static class RunCommand
{
    public static Command Build()
    {
        var seed = new Option<ulong>("--seed") { Description = "Seed (of the first repetition; repetition i uses seed + i).", DefaultValueFactory = _ => 42 };
        var repetitions = new Option<int>("--repetitions") { Description = "With --workload: independent runs with seeds seed, seed + 1, ...; figures of merit then get 95% intervals (1-1000).", DefaultValueFactory = _ => 1 };
        var threads = ThreadsOption("Runs in parallel on this many threads; results do not depend on it.");
        var output = new Option<string?>("--out") { Description = "Results folder to write (default runs/tour, or runs/WORKLOAD-PROFILE-PRESET with --workload; replaced on each run)." };
        var force = new Option<bool>("--force") { Description = "Replace the --out folder if it exists." };
        var workload = new Option<string?>("--workload") { Description = "Run this workload on the machine model instead of the tour (see 'virtsim workloads')." };
        var profile = new Option<string>("--profile") { Description = "Hardware profile (see 'virtsim profiles'); default p4-672 with --workload, nehalem-x5570 for the tour.", DefaultValueFactory = _ => "p4-672" };
        var preset = new Option<string>("--preset") { Description = "Virtualization preset for --workload: native, type1, type2, paravirt, oslevel (docs/virtualization.md says which run today).", DefaultValueFactory = _ => "native" };
        var cpu = new Option<string?>("--cpu") { Description = "With --workload: CPU virtualization instead of the preset's (trap-and-emulate, binary-translation, hardware-assist, paravirtual, none)." };
        var mmu = new Option<string?>("--mmu") { Description = "With --workload: MMU virtualization instead of the preset's (native, shadow, nested, direct)." };
        var io = new Option<string?>("--io") { Description = "With --workload: I/O virtualization instead of the preset's (native, emulated, paravirtual, passthrough)." };
        var hosting = new Option<string?>("--hosting") { Description = "With --workload: hosting instead of the preset's (bare-metal, hosted, shared-kernel)." };
        var shadowCacheRoots = new Option<int?>("--shadow-cache-roots") { Description = "With --workload: guest address spaces whose shadow page tables the monitor keeps (default 16)." };
        var unshadowAfterWrites = new Option<int?>("--unshadow-after-writes") { Description = "With --workload under shadow paging: a guest page table written this many times with no use between stops being shadowed, as KVM does after 3 (default 0: never)." };
        var unsyncShadowPages = new Option<bool?>("--unsync-shadow-pages") { Description = "With --workload under shadow paging: true or false, guest leaf page tables go out of sync so that their writes do not exit (KVM's unsync pages; default: the monitor's own, on for type1)." };
        var shadowPrefetch = new Option<bool?>("--shadow-prefetch") { Description = "With --workload under shadow paging: true or false, a hidden fault also fills the shadow entries of its group of 8 (KVM's pte_prefetch; default: the monitor's own, on for type1)." };
        var translationCacheKib = new Option<int?>("--translation-cache-kib") { Description = "With --workload: the binary translator's cache in KiB (default 4096)." };
        var noInlineEmulation = new Option<bool>("--no-inline-emulation") { Description = "With --workload under binary translation: CLI, STI, PUSHF, POPF, MOV CR8 and RDTSC call out to the monitor instead of being emulated inside the translation cache." };
        var largeEptPages = new Option<bool>("--large-ept-pages") { Description = "With --workload: the EPT maps guest memory with 2 MiB pages." };
        var khugepagedSleep = new Option<double>("--khugepaged-sleep-ms") { Description = "With --transparent-hugepages always: khugepaged's sleep between batches of 4,096 entries, in ms (Linux's default 10,000).", DefaultValueFactory = _ => Sim.Models.Kernel.LinuxKernel.DefaultKhugepagedSleepMilliseconds };
        var transparentHugePages = new Option<string>("--transparent-hugepages") { Description = "With --workload: never, or always (the Linux-like kernel maps anonymous memory with 2 MiB transparent huge pages where it can, in every kernel of the run).", DefaultValueFactory = _ => "never" };
        var swapMib = new Option<long>("--swap-mib") { Description = "With --workload: a swap area of this many MiB at the end of each Linux-like kernel's disk (default 0: none)." };
        var noContainerSwap = new Option<bool>("--no-container-swap") { Description = "With --workload under oslevel and --swap-mib: a container at its memory limit may not swap (memory.swap.max 0), so it is OOM-killed once its page cache is gone." };
        var virtioTransport = new Option<string>("--virtio-transport") { Description = "With --io paravirtual: how the virtio disk and NIC interrupt, pci (virtio-pci's MSI-X: a message a notification, nothing read; QEMU's default on x86) or mmio (virtio-mmio's line: InterruptStatus read and acknowledged, as Firecracker's guests do).", DefaultValueFactory = _ => "pci" };
        var virtioBackend = new Option<string?>("--virtio-backend") { Description = "With --workload: where the virtio backend runs, user (default: under type1 virtio-blk's I/O thread on a host CPU; hosted, the monitor's process) or kernel (vhost)." };
        var containerMemory = new Option<long?>("--container-memory-mib") { Description = "With --workload under oslevel: the container's memory limit in MiB." };
        var iothreadPoll = new Option<long>("--iothread-poll-max-ns") { Description = "With --io paravirtual under type1 (virtio backend user): the longest QEMU's I/O thread polls its virtio-blk queue before it blocks, adaptive from 4 us (default 32768, QEMU's; 0 never to poll). It polls only on a CPU of its own (--iothread-cpu).", DefaultValueFactory = _ => Sim.Models.Virtualization.MonitorParameters.DefaultIoThreadPollMaxNanoseconds };
        var iothreadCpu = new Option<string>("--iothread-cpu") { Description = "With --workload under type1 with emulated or virtio devices, or under paravirt: the host CPU each VM's backend threads (QEMU's I/O thread, vhost; dom0's netback and blkback) run on, vcpu (default: its first virtual CPU's) or a CPU number.", DefaultValueFactory = _ => "vcpu" };
        var containerNetwork = new Option<string>("--container-network") { Description = "With --workload under oslevel: how each container reaches the NIC, bridge (a veth pair into the host's bridge, Docker's default network without its NAT), nat (the bridge and Docker's NAT of a published port: connection tracking, the rewrite and the FORWARD chain on each frame) or host (the host's network namespace).", DefaultValueFactory = _ => "bridge" };
        var containerCpuset = new Option<string?>("--container-cpuset") { Description = "With --workload under oslevel: the CPUs each container may run on, a CPU list such as 0-3,8 (default: as many as --container-cpus needs, given to the containers in turn, or every CPU)." };
        var vcpuWeights = new Option<string?>("--vcpu-weights") { Description = "With --workload under type1 or type2: the virtual machines' credit-scheduler weights (xl sched-credit -w, 1 to 65535), a comma list: the k-th for the k-th VM, the last for the rest (default 256 each)." };
        var vcpus = new Option<string?>("--vcpus") { Description = "With --workload under type1 or type2 with EPT: the virtual machines' virtual CPUs, on which the guest's SMP kernel runs, a comma list: the k-th for the k-th VM, the last for the rest (default 1)." };
        var vcpuCaps = new Option<string?>("--vcpu-caps") { Description = "With --workload under type1 or type2: the virtual machines' credit-scheduler caps in percent of one CPU, each the whole VM's, split among its virtual CPUs (xl sched-credit -c, 0 for none to 100 per virtual CPU), a comma list: the k-th for the k-th VM, the last for the rest (default none)." };
        var vcpuPinning = new Option<string?>("--vcpu-pinning") { Description = "With --workload under type1 or type2: the logical CPU each VM's virtual CPU is pinned to (xl vcpu-pin), a comma list in guest order; later guests go on the next CPU in turn." };
        var hostScheduler = new Option<string?>("--host-scheduler") { Description = "With --workload under type1 or type2: the scheduler of virtual CPUs on the host's cores, credit (Xen's credit scheduler) or cfs (Linux's CFS, each virtual CPU a thread of the host, as under KVM); default: credit under type1, cfs under type2." };
        var pleWindow = new Option<string?>("--ple-window") { Description = "With --workload under type1 or type2: the PAUSE-loop exiting window, default (4096 TSC cycles where the CPU has PLE), off, or TSC cycles." };
        var pleGap = new Option<long?>("--ple-gap") { Description = "With --workload under type1 or type2: the PAUSE-loop exiting gap in TSC cycles (default 128)." };
        var pvSpinlocks = new Option<bool>("--pv-spinlocks") { Description = "With --workload under type1 or type2: the guests' kernels take spinlocks paravirtually (KVM's pv ticket locks: a waiter halts after 32768 rounds, and the unlocker kicks it by hypercall)." };
        var guestMemoryBacking = new Option<string>("--guest-memory-backing") { Description = "With --workload under type1 or type2 with EPT: preallocated (the host backs all guest memory before the guest starts) or on_touch (a host frame at the EPT violation of each page's first touch, as KVM does).", DefaultValueFactory = _ => "preallocated" };
        var bootCache = new Option<long?>("--guest-boot-cache-mib") { Description = "With --workload under a hypervisor: the page cache each VM's boot leaves from its image, in MiB (its base system's files; default 0, the model's bare kernel)." };
        var bootAnon = new Option<long?>("--guest-boot-anon-mib") { Description = "With --workload under a hypervisor: the anonymous memory of the daemons each VM's boot starts, in MiB (default 0)." };
        var balloonMib = new Option<long?>("--balloon-mib") { Description = "With --workload under type1 or type2 with EPT and --guest-memory-backing on_touch: each VM gets a memory balloon (virtio-balloon), and the host asks it to hold this many MiB of the guest's memory." };
        var balloonAt = new Option<string?>("--balloon-at-ms") { Description = "With --balloon-mib: when the host asks, in simulated milliseconds from the start (default 0), or boot (as each VM boots: the run starts with the balloons inflated, their inflating not charged)." };
        var hostSwapMib = new Option<long>("--host-swap-mib") { Description = "With --workload under type1 or type2 with EPT and --guest-memory-backing on_touch: the host's swap area for guest memory, in MiB, on an SSD of its own (default 0: none)." };
        var ksmPages = new Option<long?>("--ksm-pages-to-scan") { Description = "With --workload under type1 or type2 with EPT and --guest-memory-backing on_touch: the host merges guest pages of equal contents (KSM), ksmd scanning this many pages per batch (Linux's default 100)." };
        var ksmSleep = new Option<double?>("--ksm-sleep-ms") { Description = "With --ksm-pages-to-scan: ksmd's sleep between batches in milliseconds (default 20)." };
        var pvTlbFlush = new Option<bool>("--pv-tlb-flush") { Description = "With --workload under type1 or type2: the hypervisor offers KVM's PV TLB flush (a shootdown leaves a preempted virtual CPU's flush to the hypervisor, at its next entry, instead of an IPI)." };
        var containerShares = new Option<string?>("--container-shares") { Description = "With --workload under oslevel: the containers' CPU weights (cpu.shares, as Docker's --cpu-shares, 2 to 262144), a comma list: the k-th for the k-th container, the last for the rest (default 1024 each)." };
        var containerCpus = new Option<double?>("--container-cpus") { Description = "With --workload under oslevel: each container's CPU quota in CPUs, more than 0 and at most the host's (as Docker's --cpus); also its cpuset, as many CPUs as it needs, unless --container-cpuset says otherwise." };
        var guests = new Option<int>("--guests") { Description = "With --workload: guests sharing the host, each a virtual machine running the workload (VT-x presets).", DefaultValueFactory = _ => 1 };
        var hostCores = new Option<int?>("--host-cores") { Description = "With --workload: the host's physical cores; guests are placed on them round-robin and time-share a core (default: natively, a process workload runs on all the profile's cores; otherwise 1)." };
        var guestWorkloads = new Option<string?>("--guest-workloads") { Description = "With --workload: the other guests' workloads, comma-separated, each NAME[:SIZE][@RATE], NAME a built-in workload or file:PATH (the first guest runs --workload)." };
        var hostProcesses = new Option<int>("--host-processes") { Description = "With --workload under type2: CPU-bound host processes competing with the guests for the host's cores.", DefaultValueFactory = _ => 0 };
        var requestRate = new Option<double?>("--request-rate") { Description = "With --workload web: each guest's client sends requests open-loop, this many a second on average (Poisson arrivals); figures of merit then include response-time percentiles." };
        var sockets = new Option<int?>("--sockets") { Description = "With --workload: the host's sockets (default: the profile's once any of --sockets, --cores-per-socket, --threads-per-core is given; with none, the host is --host-cores cores)." };
        var coresPerSocket = new Option<int?>("--cores-per-socket") { Description = "With --workload: the cores of each socket (default: the profile's, as --sockets)." };
        var threadsPerCore = new Option<int?>("--threads-per-core") { Description = "With --workload: hardware threads per core, 2 for SMT where the part has it (default: the profile's, as --sockets)." };
        var irqCpu = new Option<int>("--irq-cpu") { Description = "With --workload natively or under oslevel: the CPU the host kernel routes device interrupts to (their affinity, as /proc/irq/N/smp_affinity sets it).", DefaultValueFactory = _ => 0 };
        var syncQuantum = new Option<double?>("--sync-quantum-ns") { Description = "With --workload on several host cores: how far a core may run ahead of the others before it yields to them, in ns (default 0, exact time order; try 100 for speed, docs/performance.md)." };
        var processThreads = new Option<int>("--process-threads") { Description = "With --workload web (its worker threads), oltp (its concurrent clients), lock-counter, mutex-counter, tlb-shootdown or stream-threads: the process's threads, the main one included (default 1); with --host-cores N natively they run on N CPUs.", DefaultValueFactory = _ => 1 };
        var ioEngine = new Option<string>("--ioengine") { Description = "With --workload fio-randread: fio's engine, psync (a pread at a time a job) or libaio (io_submit and io_getevents, --iodepth reads in flight a job).", DefaultValueFactory = _ => "psync" };
        var ioDepth = new Option<int>("--iodepth") { Description = "With --ioengine libaio: fio's iodepth, the reads each job keeps in flight (1 to 1024).", DefaultValueFactory = _ => 1 };
        var jobs = new Option<int>("--jobs") { Description = "With --workload kernel-build: parallel compiler jobs, as make -j (default 1); with --host-cores N natively, the jobs run on N CPUs. With --workload fio-randread: fio's numjobs (1 to 256), the queue depth under psync; under libaio each job keeps --iodepth reads in flight.", DefaultValueFactory = _ => 1 };
        var guestMemory = new Option<long?>("--guest-memory-mib") { Description = "With --workload: each guest's memory in MiB, a virtual machine's reserved whole on the host (default 512)." };
        var hostMemory = new Option<long?>("--host-memory-mib") { Description = "With --workload: the host's installed memory in MiB (default: sized to fit the guests); guests that do not fit are refused." };
        var timeLimit = new Option<long?>("--time-limit-ms") { Description = "With --workload: stop after this many simulated milliseconds even if workloads have not ended (their figures of merit are then NaN)." };
        var outputs = new Option<string?>("--outputs") { Description = "With --workload: which of stats, report, plots the results folder holds, comma-separated (default all; scenario.json, manifest.json and summary.json always)." };
        var size = new Option<long?>("--size") { Description = "Workload size (iterations, elements or updates; each workload says which)." };
        var json = new Option<bool>("--json") { Description = "With --workload: print the summary as one JSON object." };
        var disk = new Option<string>("--disk") { Description = "With --workload: the disk's medium: ssd (Intel X25-E), hdd (7,200 rpm) or nvme (Intel DC P4500).", DefaultValueFactory = _ => "ssd" };
        var nic = new Option<string>("--nic") { Description = "With --workload natively or in containers: the machine's NIC, e1000 (one queue, its interrupts on one CPU) or 82599 (a 10 GbE Intel 82599 under ixgbe: a queue pair per CPU up to 16, receive-side scaling, an MSI-X message per queue to its CPU).", DefaultValueFactory = _ => "e1000" };
        var diskInterface = new Option<string>("--disk-interface") { Description = "With --workload: how the disk is attached, ahci (queued DMA, 32 commands), nvme (an NVMe controller: a queue pair per CPU of 1,024 entries, natively or assigned) or ata-pio (programmed I/O, one request at a time).", DefaultValueFactory = _ => "ahci" };

        var scenarioFile = new Argument<string?>("scenario") { Description = "A scenario file (YAML, docs/scenarios.md) naming the workload and machine; instead of --workload.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("run", "With no arguments, the tour: a few workloads natively and under the five architectures (slowdowns, exits, where the cycles go). With --workload or a scenario file, one workload on the machine model; a results folder either way.")
        {
            scenarioFile,
            seed, repetitions, threads, output, force,
            workload, profile, preset, cpu, mmu, io, hosting, size, json, disk, diskInterface, nic,
            shadowCacheRoots, unshadowAfterWrites, unsyncShadowPages, shadowPrefetch, translationCacheKib, noInlineEmulation, largeEptPages, transparentHugePages, khugepagedSleep, swapMib, virtioBackend, virtioTransport, iothreadCpu, iothreadPoll, containerMemory, noContainerSwap, containerNetwork, containerCpus, containerCpuset, containerShares, vcpus, vcpuWeights, vcpuCaps, vcpuPinning, hostScheduler, pleWindow, pleGap, pvSpinlocks, pvTlbFlush, guestMemoryBacking, bootCache, bootAnon, balloonMib, balloonAt, ksmPages, ksmSleep, hostSwapMib, guests, guestWorkloads, hostCores, sockets, coresPerSocket, threadsPerCore, irqCpu, hostProcesses,
            requestRate, jobs, ioEngine, ioDepth, processThreads, syncQuantum, guestMemory, hostMemory, timeLimit, outputs,
        };
        // The options that describe one workload's run: refused with a scenario file (which describes it) and without --workload (the tour has its own).
        Option[] runOptions = [seed, repetitions, profile, preset, cpu, mmu, io, hosting, size, disk, diskInterface, nic, shadowCacheRoots, unshadowAfterWrites, unsyncShadowPages, shadowPrefetch,
            translationCacheKib, noInlineEmulation, largeEptPages, transparentHugePages, khugepagedSleep, swapMib, virtioBackend, virtioTransport, iothreadCpu, iothreadPoll, containerMemory, noContainerSwap, containerNetwork, containerCpus, containerCpuset, containerShares, vcpus, vcpuWeights, vcpuCaps, vcpuPinning, hostScheduler, pleWindow, pleGap, pvSpinlocks, pvTlbFlush, guestMemoryBacking, bootCache, bootAnon, balloonMib, balloonAt, ksmPages, ksmSleep, hostSwapMib, guests, guestWorkloads, hostCores, sockets, coresPerSocket, threadsPerCore, irqCpu, hostProcesses,
            requestRate, jobs, ioEngine, ioDepth, processThreads, syncQuantum, guestMemory, hostMemory, timeLimit, outputs];
        command.SetAction(parse =>
        {
            if (ThreadsProblem(parse.GetValue(threads)) is { } threadsProblem)
            {
                return WorkloadRunner.Fail(threadsProblem);
            }
            string[] Given(IEnumerable<Option> options) => [.. options.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name)];
            if (parse.GetValue(scenarioFile) is { } file)
            {
                if (parse.GetValue(workload) is not null)
                {
                    return WorkloadRunner.Fail("give a scenario file or --workload, not both.");
                }
                if (Given(runOptions) is { Length: > 0 } given)
                {
                    return WorkloadRunner.Fail($"the scenario file {file} describes the run; {string.Join(", ", given)} cannot be given with it. Edit the file (or a copy of it), or run with --workload and options instead.");
                }
                return WorkloadRunner.ExecuteFile(file, parse.GetValue(json), parse.GetValue(output), parse.GetValue(force), parse.GetValue(threads));
            }
            if (parse.GetValue(workload) is { } name)
            {
                string balloonWhen = parse.GetValue(balloonAt) ?? "0";
                if (balloonWhen != "boot" && !double.TryParse(balloonWhen, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                {
                    return WorkloadRunner.Fail($"--balloon-at-ms takes a number of milliseconds or boot (got '{balloonWhen}').");
                }
                var fromFlags = new WorkloadScenario
                {
                    Workload = name, Profile = parse.GetValue(profile)!, Preset = parse.GetValue(preset)!, Size = parse.GetValue(size),
                    Cpu = parse.GetValue(cpu), Mmu = parse.GetValue(mmu), Io = parse.GetValue(io), Hosting = parse.GetValue(hosting),
                    ShadowCacheRoots = parse.GetValue(shadowCacheRoots) ?? Models.Virtualization.MonitorParameters.Default.ShadowCacheRoots,
                    UnshadowAfterWrites = parse.GetValue(unshadowAfterWrites) ?? Models.Virtualization.MonitorParameters.Default.UnshadowAfterWrites,
                    UnsyncShadowPages = parse.GetValue(unsyncShadowPages), ShadowPrefetch = parse.GetValue(shadowPrefetch),
                    TranslationCacheKiB = parse.GetValue(translationCacheKib) ?? Models.Virtualization.MonitorParameters.Default.TranslationCacheKiB,
                    InlineEmulation = !parse.GetValue(noInlineEmulation),
                    LargeEptPages = parse.GetValue(largeEptPages),
                    TransparentHugePages = parse.GetValue(transparentHugePages)!,
                    KhugepagedSleepMs = parse.GetValue(khugepagedSleep),
                    SwapMiB = parse.GetValue(swapMib), ContainerSwap = !parse.GetValue(noContainerSwap), ContainerNetwork = parse.GetValue(containerNetwork)!, IoThreadCpu = parse.GetValue(iothreadCpu)!, IoThreadPollMaxNs = parse.GetValue(iothreadPoll),
                    VirtioBackend = parse.GetValue(virtioBackend) ?? "user", VirtioTransport = parse.GetValue(virtioTransport)!,
                    ContainerMemoryMiB = parse.GetValue(containerMemory), ContainerCpus = parse.GetValue(containerCpus), ContainerCpuset = parse.GetValue(containerCpuset), ContainerShares = parse.GetValue(containerShares),
                    Vcpus = parse.GetValue(vcpus), VcpuWeights = parse.GetValue(vcpuWeights), VcpuCaps = parse.GetValue(vcpuCaps), VcpuPinning = parse.GetValue(vcpuPinning),
                    HostScheduler = parse.GetValue(hostScheduler) ?? "default",
                    PleWindow = parse.GetValue(pleWindow) ?? "default", PleGap = parse.GetValue(pleGap) ?? Models.Virtualization.VmExecutionControls.DefaultPleGap,
                    PvSpinlocks = parse.GetValue(pvSpinlocks), PvTlbFlush = parse.GetValue(pvTlbFlush), GuestMemoryBacking = parse.GetValue(guestMemoryBacking)!,
                    GuestBootCacheMiB = parse.GetValue(bootCache) ?? 0, GuestBootAnonMiB = parse.GetValue(bootAnon) ?? 0,
                    BalloonMiB = parse.GetValue(balloonMib), BalloonAtBoot = balloonWhen == "boot", BalloonAtMs = balloonWhen == "boot" ? 0 : double.Parse(balloonWhen, CultureInfo.InvariantCulture),
                    KsmPagesToScan = parse.GetValue(ksmPages), KsmSleepMs = parse.GetValue(ksmSleep) ?? Models.Virtualization.MonitorParameters.DefaultKsmSleepMilliseconds,
                    HostSwapMiB = parse.GetValue(hostSwapMib),
                    Guests = parse.GetValue(guests), HostCores = parse.GetValue(hostCores),
                    Sockets = parse.GetValue(sockets), CoresPerSocket = parse.GetValue(coresPerSocket), ThreadsPerCore = parse.GetValue(threadsPerCore), IrqCpu = parse.GetValue(irqCpu), HostProcesses = parse.GetValue(hostProcesses), GuestWorkloads = parse.GetValue(guestWorkloads),
                    RequestRate = parse.GetValue(requestRate), Jobs = parse.GetValue(jobs), IoEngine = parse.GetValue(ioEngine)!, IoDepth = parse.GetValue(ioDepth), Threads = parse.GetValue(processThreads), SyncQuantumNs = parse.GetValue(syncQuantum) ?? new WorkloadScenario().SyncQuantumNs, GuestMemoryMiB = parse.GetValue(guestMemory) ?? new WorkloadScenario().GuestMemoryMiB,
                    HostMemoryMiB = parse.GetValue(hostMemory), TimeLimitMs = parse.GetValue(timeLimit),
                    Outputs = parse.GetValue(outputs) ?? string.Join(",", WorkloadScenario.OutputKinds),
                    Seed = parse.GetValue(seed), Disk = parse.GetValue(disk)!, DiskInterface = parse.GetValue(diskInterface)!, Nic = parse.GetValue(nic)!,
                    Repetitions = parse.GetValue(repetitions),
                };
                (string Key, Option Option)[] hostKeys = [("nic", nic), ("disk", disk), ("disk_interface", diskInterface), ("host_memory_mib", hostMemory)];
                fromFlags = ScenarioFile.WithProfileHost(fromFlags, key => hostKeys.Any(h => h.Key == key && parse.GetResult(h.Option) is { Implicit: false }), "--profile"); // a profile file's host, the flags given over it
                return WorkloadRunner.Execute(fromFlags, parse.GetValue(json), parse.GetValue(output), parse.GetValue(force), parse.GetValue(threads));
            }
            if (Given(runOptions.Except([seed, profile])) is { Length: > 0 } workloadOnly)
            {
                return WorkloadRunner.Fail($"{string.Join(", ", workloadOnly)} describe one workload's run: give --workload NAME too (the tour, which 'run' does alone, takes only --profile, --seed, --threads, --out, --force and --json).");
            }
            string? outDir = parse.GetValue(output);
            var tour = Experiments.Tour.ArchitectureTour.Default;
            tour = tour with
            {
                Profile = parse.GetResult(profile) is { Implicit: false } ? parse.GetValue(profile)! : tour.Profile,
                Seed = parse.GetValue(seed),
            };
            return TourRunner.Execute(tour, outDir ?? TourRunner.DefaultOut, replace: outDir is null || parse.GetValue(force), parse.GetValue(threads), parse.GetValue(json));
        });
        return command;
    }

    /// <summary>The --threads option of the commands that run simulations in parallel.</summary>
    internal static Option<int> ThreadsOption(string description) =>
        new("--threads") { Description = description, DefaultValueFactory = _ => Environment.ProcessorCount };

    /// <summary>Why a thread count cannot be, or null.</summary>
    internal static string? ThreadsProblem(int threads) => threads >= 1 ? null : $"--threads must be at least 1 (got {threads}).";
}
