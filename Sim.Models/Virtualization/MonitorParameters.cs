namespace Sim.Models.Virtualization;

/// <summary>
/// The sizes a study may vary in a monitor: how many guest address spaces keep their shadow page
/// tables, the binary translator's cache, and whether the EPT maps guest memory with 2 MiB pages.
/// The defaults are assumptions: no source in hand gives VMware's or KVM's shadow cache or
/// VMware's translation cache sizes (docs/virtualization.md).
/// </summary>
/// <param name="ShadowCacheRoots">Guest address spaces whose shadows are kept at once (shadow paging).</param>
/// <param name="TranslationCacheKiB">The translation cache's capacity (binary translation).</param>
/// <param name="LargeEptPages">The EPT maps guest memory with 2 MiB pages where it can (nested paging); 4 KiB pages otherwise.</param>
/// <param name="VirtioBackendInKernel">A hosted monitor's virtio backend runs in its kernel part (as vhost does) rather than in its user-space process (as QEMU does).</param>
/// <param name="UnshadowAfterWrites">Shadow paging's write-flood detection: a guest page-table page written this many times with no walk through it between stops being shadowed (KVM: 3); 0 never (VMware's 2006 monitors traced every write).</param>
/// <param name="PleWindow">The VT-x hypervisor's PAUSE-loop exiting window in TSC cycles; null for the default (4096, KVM's and Xen's, where the CPU has PLE; none otherwise), 0 for none.</param>
/// <param name="PleGap">The PAUSE-loop exiting gap in TSC cycles (KVM's and Xen's default 128).</param>
/// <param name="PvSpinlocks">The guests' kernels take their spinlocks paravirtually (KVM's pv ticket locks: a waiter halts after SPIN_THRESHOLD rounds and the unlocker kicks it by hypercall), as a guest does when its hypervisor offers KVM_FEATURE_PV_UNHALT; VT-x hypervisors only.</param>
/// <param name="PvTlbFlush">The hypervisor offers KVM_FEATURE_PV_TLB_FLUSH with steal time: a guest kernel's TLB shootdown sets a flag in a preempted virtual CPU's steal-time area instead of sending it an IPI, and the hypervisor flushes that virtual CPU's TLB before its next entry; VT-x hypervisors only.</param>
/// <param name="HostScheduler">The policy that schedules the virtual CPUs on the host's cores: Xen's credit scheduler, or Linux's CFS (KVM's virtual CPUs are threads of the host); null for the hosting's own (<see cref="SchedulerFor"/>).</param>
/// <param name="GuestMemoryOnTouch">The VT-x hypervisor backs guest memory with host frames as the guest first touches it (KVM's way: each first reference an EPT violation the host fills), not all of it before the guest starts; nested paging only.</param>
/// <param name="BalloonTargetBytes">Each VM gets a memory balloon (virtio-balloon), and the host asks it to hold this much of the guest's memory; null for no balloon. VT-x with guest memory backed on first touch in 4 KiB pages only.</param>
/// <param name="BalloonAtMilliseconds">When the host asks the balloons for their target, in simulated milliseconds from the start; null for as each VM boots (the run starts with the balloons at their targets, their inflating not charged).</param>
/// <param name="KsmPagesToScan">The host merges guest pages of equal contents (KSM), ksmd scanning this many pages per batch (pages_to_scan; Linux's default is 100); null for no merging. VT-x with EPT and guest memory backed on first touch in 4 KiB pages only.</param>
/// <param name="KsmSleepMilliseconds">ksmd's sleep between two batches (sleep_millisecs; Linux's default is 20).</param>
/// <param name="HostSwapBytes">The host's swap area for guest memory, in bytes (docs/virtualization.md, "Host swap"): when its free memory reaches the min watermark the host sends guest pages there; 0 for none. VT-x with EPT and guest memory backed on first touch in 4 KiB pages only.</param>
/// <param name="IoThreadPollMaxNanoseconds">The longest the user-space I/O thread polls its virtio-blk queue before it blocks (QEMU's iothread poll-max-ns, adaptive from 4 us); 0 never to poll. It polls only on a CPU with nothing else to run (<see cref="IoThreadCpu"/>).</param>
/// <param name="IoThreadCpu">The host logical CPU every VM's device backend threads run on (QEMU's I/O thread and vhost workers, pinned as virsh iothreadpin and emulatorpin do); null for each VM's first virtual CPU's host CPU. A CPU no virtual CPU is placed on idles in the host's loop until a thread's wake-up comes. VT-x bare-metal hosting only.</param>
/// <param name="UnsyncShadowPages">Shadow paging lets guest leaf page tables go out of sync (KVM's unsync shadow pages: a write to one does not exit; it is synced at a CR3 load or INVLPG, <see cref="ShadowPageTables"/>); null for the monitor's own (<see cref="LazyShadowMmu"/>): on for the bare-metal VT-x hypervisor (KVM's shadow MMU; Xen's has out-of-sync shadows too), off for the hosted VT-x monitor and the software monitors (VMware's 2006 monitors traced every write [AA06]).</param>
/// <param name="ShadowPrefetch">Shadow paging fills the shadow entries of a hidden fault's group of 8 from the guest's entries (KVM's pte_prefetch); null for the monitor's own, as <paramref name="UnsyncShadowPages"/> (no source in hand says VMware's monitors prefetched).</param>
/// <param name="InlineEmulation">The binary translator emulates CLI, STI, PUSHF, POPF, MOV CR8 and RDTSC with short sequences inside the translation cache (VMware's in-TC emulation, [AA06]); off, each of them calls out to the monitor.</param>
public sealed record MonitorParameters(int ShadowCacheRoots = 16, int TranslationCacheKiB = 4096, bool LargeEptPages = false, bool VirtioBackendInKernel = false,
    bool InlineEmulation = true, int UnshadowAfterWrites = 0, uint? PleWindow = null, uint PleGap = VmExecutionControls.DefaultPleGap,
    bool PvSpinlocks = false, bool PvTlbFlush = false, HostScheduler? HostScheduler = null, bool GuestMemoryOnTouch = false,
    ulong? BalloonTargetBytes = null, double? BalloonAtMilliseconds = 0, int? KsmPagesToScan = null, double KsmSleepMilliseconds = 20, ulong HostSwapBytes = 0, int? IoThreadCpu = null,
    long IoThreadPollMaxNanoseconds = MonitorParameters.DefaultIoThreadPollMaxNanoseconds, bool? UnsyncShadowPages = null, bool? ShadowPrefetch = null)
{
    public static readonly MonitorParameters Default = new();

    /// <summary>QEMU's default poll-max-ns for an I/O thread, 32,768 ns (util/event-loop-base.c, EVENT_LOOP_BACKEND_POLL_MAX_NS_DEFAULT: "max polling times around 16-32 microseconds yield IOPS improvements", measured on NVMe in 2016).</summary>
    public const long DefaultIoThreadPollMaxNanoseconds = 32_768;

    /// <summary>QEMU's polling time when an I/O thread starts to poll (util/aio-posix.c, aio_poll's adjustment: "start polling at 4 microseconds"), doubled from there.</summary>
    public const long FirstIoThreadPollNanoseconds = 4_000;

    /// <summary>The longest poll-max-ns the model takes: a second.</summary>
    public const long MostIoThreadPollMaxNanoseconds = 1_000_000_000;

    /// <summary>Linux's defaults for ksmd (mm/ksm.c: ksm_thread_pages_to_scan = 100, ksm_thread_sleep_millisecs = 20).</summary>
    public const int DefaultKsmPagesToScan = 100;

    /// <inheritdoc cref="DefaultKsmPagesToScan"/>
    public const double DefaultKsmSleepMilliseconds = 20; // the record's default for KsmSleepMilliseconds

    /// <summary>The most pages a batch may scan and the longest sleep the model takes (a million pages; an hour).</summary>
    public const int MostKsmPagesToScan = 1_000_000;

    /// <inheritdoc cref="MostKsmPagesToScan"/>
    public const double MostKsmSleepMilliseconds = 3_600_000;

    /// <summary>The largest host swap area the model takes: 32 GiB, as a guest kernel's swap_mib.</summary>
    public const ulong MostHostSwapBytes = 32UL << 30;

    /// <summary>The longest PLE gap or window the model takes: a billion cycles, far beyond any slice (the VMCS fields are 32 bits).</summary>
    public const uint MostPleCycles = 1_000_000_000;

    /// <summary>The PLE window a hypervisor on a CPU with <paramref name="features"/> sets: the given one, or the default where the CPU has PLE; 0 for none.</summary>
    public uint PleWindowOn(Hardware.VirtualizationFeatures features) => PleWindow ?? (features.PauseLoopExiting ? VmExecutionControls.DefaultPleWindow : 0);

    /// <summary>
    /// The scheduler of virtual CPUs under <paramref name="hosting"/>: the given one, or by
    /// default credit for a bare-metal hypervisor (Xen's), and CFS for a hosted one, whose
    /// virtual CPUs are threads of the host's monitor process under the host kernel's scheduler.
    /// </summary>
    public HostScheduler SchedulerFor(Hosting hosting) => HostScheduler ?? (hosting == Hosting.Hosted ? Virtualization.HostScheduler.Cfs : Virtualization.HostScheduler.Credit);

    /// <summary>
    /// Whether the monitor of <paramref name="cpu"/> and <paramref name="hosting"/> lets shadow
    /// leaf tables go out of sync and prefetches by default: the bare-metal VT-x hypervisor, whose
    /// shadow MMU is KVM's (Xen's HVM shadows have out-of-sync pages and prefetch too); not the
    /// hosted VT-x monitor, VMware's of [AA06], nor the software monitors, which traced every write.
    /// </summary>
    public static bool LazyShadowMmu(CpuVirtualization cpu, Hosting hosting) => cpu == CpuVirtualization.HardwareAssist && hosting == Hosting.BareMetal;

    public void Validate()
    {
        if (ShadowCacheRoots is < 1 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(ShadowCacheRoots), ShadowCacheRoots, "The shadow cache keeps 1 to 4096 address spaces.");
        }
        if (UnshadowAfterWrites is < 0 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(UnshadowAfterWrites), UnshadowAfterWrites, "Unshadowing takes 0 (never) to 1000 writes.");
        }
        if (PleGap is < 1 or > MostPleCycles || PleWindow > MostPleCycles)
        {
            throw new ArgumentOutOfRangeException(nameof(PleGap), $"The PLE gap is 1 to {MostPleCycles} cycles and the window 0 (none) to {MostPleCycles} (got {PleGap} and {PleWindow}).");
        }
        if (BalloonTargetBytes is not null && !GuestMemoryOnTouch)
        {
            throw new ArgumentException("A balloon gives guest pages back to the host one by one, which needs guest memory backed on first touch (GuestMemoryOnTouch).", nameof(BalloonTargetBytes));
        }
        if (KsmPagesToScan is not null && !GuestMemoryOnTouch)
        {
            throw new ArgumentException("Page merging (KSM) maps guest pages one by one onto shared frames, which needs guest memory backed on first touch (GuestMemoryOnTouch).", nameof(KsmPagesToScan));
        }
        if (HostSwapBytes > 0 && (!GuestMemoryOnTouch || LargeEptPages))
        {
            throw new ArgumentException("Host swap sends guest pages to swap one by one, which needs guest memory backed on first touch (GuestMemoryOnTouch) in 4 KiB EPT pages (no LargeEptPages).", nameof(HostSwapBytes));
        }
        if (HostSwapBytes % Memory.PhysicalMemory.FrameBytes != 0 || HostSwapBytes > MostHostSwapBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(HostSwapBytes), HostSwapBytes, $"The host's swap is whole 4 KiB pages, at most {MostHostSwapBytes >> 20} MiB.");
        }
        if (KsmPagesToScan is < 1 or > MostKsmPagesToScan)
        {
            throw new ArgumentOutOfRangeException(nameof(KsmPagesToScan), KsmPagesToScan, $"ksmd scans 1 to {MostKsmPagesToScan} pages per batch.");
        }
        if (KsmSleepMilliseconds is <= 0 or > MostKsmSleepMilliseconds || double.IsNaN(KsmSleepMilliseconds))
        {
            throw new ArgumentOutOfRangeException(nameof(KsmSleepMilliseconds), KsmSleepMilliseconds, $"ksmd sleeps more than 0 and at most {MostKsmSleepMilliseconds} ms between batches.");
        }
        if (BalloonAtMilliseconds is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BalloonAtMilliseconds), BalloonAtMilliseconds, "The balloon's request comes at a time from the start, 0 or later.");
        }
        if (TranslationCacheKiB is < 1 or > (1 << 20))
        {
            throw new ArgumentOutOfRangeException(nameof(TranslationCacheKiB), TranslationCacheKiB, "The translation cache holds 1 KiB to 1 GiB.");
        }
    }
}
