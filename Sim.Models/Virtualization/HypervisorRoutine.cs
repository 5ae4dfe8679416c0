namespace Sim.Models.Virtualization;

/// <summary>The pieces of a bare-metal hypervisor's exit handling, each a run of code in the hypervisor's text (<see cref="HypervisorCosts"/>).</summary>
/// <remarks>The order is the order of the routines in the hypervisor's text (the hypervisor's CodeLayout places them one after another, in this order), so a new routine goes at the end: one inserted before others would move their code and change what the caches hold.</remarks>
public enum HypervisorRoutine
{
    /// <summary>After every exit: save the guest's registers, read the exit reason and qualification, dispatch.</summary>
    ExitEntry,

    /// <summary>Before every entry: check pending requests, restore the guest's registers.</summary>
    ExitReturn,

    /// <summary>The host's handler of a physical interrupt (the kick that forced the exit, or that woke a blocked virtual CPU).</summary>
    HostInterrupt,

    /// <summary>HLT with nothing to inject: block the virtual CPU and let the physical one idle.</summary>
    VcpuBlock,

    /// <summary>A blocked virtual CPU is woken and scheduled back.</summary>
    VcpuWake,

    /// <summary>An I/O-instruction exit: port, size and direction from the exit qualification.</summary>
    PortIoDecode,

    /// <summary>An MMIO exit through an EPT violation: fetch and decode the guest's instruction in software (the x86 emulator).</summary>
    MmioDecode,

    /// <summary>An APIC-access exit: the register offset from the exit qualification.</summary>
    ApicAccessDecode,

    /// <summary>A device model's register access: the emulated register's semantics.</summary>
    DeviceModel,

    /// <summary>CPUID: the virtual CPU's feature leaves.</summary>
    CpuidEmulation,

    /// <summary>RDMSR or WRMSR: the virtual MSR.</summary>
    MsrEmulation,

    /// <summary>Another instruction exit (CR access, INVLPG, RDTSC, WBINVD, descriptor tables, VMCALL).</summary>
    InstructionEmulation,

    /// <summary>Choose the highest pending virtual interrupt and write the VM-entry interruption information.</summary>
    InterruptInjection,

    /// <summary>Shadow paging, a page-fault exit: walk the guest's tables in software, then fill the shadow entry (or find the guest's own fault).</summary>
    ShadowFill,

    /// <summary>Shadow paging: a true page fault goes back to the guest (error code and CR2 into the VM-entry fields).</summary>
    ExceptionReflection,

    /// <summary>Shadow paging: the guest wrote a write-protected page table; after the emulator's decode, the write is done and the shadow entries made from it cleared.</summary>
    PageTableWriteEmulation,

    /// <summary>Shadow paging: the guest loaded CR3; find the shadow root for it in the cache, or make one.</summary>
    Cr3Switch,

    /// <summary>Shadow paging: the guest's INVLPG; clear the shadow entry.</summary>
    InvlpgEmulation,

    /// <summary>A software monitor gets control from a fault: save state, find and decode the faulting guest instruction.</summary>
    TrapEntry,

    /// <summary>A software monitor returns to the guest.</summary>
    TrapReturn,

    /// <summary>A software monitor hands an event to the guest kernel: the guest's exception frame built, its handler entered on its stack.</summary>
    GuestReflection,

    /// <summary>A privileged instruction emulated on the virtual CPU's state (CLI, STI, MOV CR8, RDMSR, LGDT ...).</summary>
    PrivilegedEmulation,

    /// <summary>Binary translation: translated code calls out of the translation cache into the monitor (no fault).</summary>
    Callout,

    /// <summary>Binary translation: a sensitive instruction emulated inline in the translation cache (CLI, STI, PUSHF, POPF on the virtual flags).</summary>
    InCacheEmulation,

    /// <summary>Hosted: one direction of the world switch between the monitor's world and the host's (all processor state saved and reloaded besides the named instructions).</summary>
    WorldSwitch,

    /// <summary>Hosted: the host kernel's return from the monitor driver's ioctl to the monitor process, or its entry for the next one.</summary>
    HostIoctl,

    /// <summary>Hosted: the monitor process's dispatch of the exit to its device model in user mode.</summary>
    UserDeviceDispatch,

    /// <summary>Hosted: a host system call that does the device's real I/O (read, write, sendto on the host).</summary>
    HostIoSyscall,

    /// <summary>Paravirtual: one page-table update of an mmu_update batch validated (the frame's type and owner checked) and written.</summary>
    PageTableValidation,

    /// <summary>The scheduler picks the next virtual CPU of the core and switches to it (the VMCS images moved are explicit).</summary>
    VcpuSchedule,

    /// <summary>A PAUSE-loop exit: the virtual CPU yields (Xen's vmx_vmexit_handler calls vcpu_yield: its yield flag set and the scheduler's softirq raised).</summary>
    PauseYield,

    /// <summary>KVM_HC_KICK_CPU: the virtual CPU found by its APIC ID, marked unhalted and kicked (KVM's kvm_pv_kick_cpu_op).</summary>
    PvKick,

    /// <summary>record_steal_time at the first entry after a virtual CPU was scheduled in: its struct kvm_steal_time mapped, the preempted byte exchanged for 0 (a TLB flush if a shootdown asked for one), the version bumped around the steal time's update (arch/x86/kvm/x86.c).</summary>
    StealTimeUpdate,

    /// <summary>
    /// A virtual CPU switched in on a core other than the one it last ran on: what KVM's
    /// vmx_vcpu_load does when vcpu->cpu changed besides the VMCS's load and the named VMWRITEs and
    /// RDMSR (kvm_migrate_timers moving its timers, its VMCS put on the new CPU's loaded list with
    /// interrupts off, and the VPID's INVVPID), or Xen's vmx_do_resume for a new active_cpu.
    /// </summary>
    VcpuMigrate,

    /// <summary>
    /// An EPT violation on guest memory not yet backed (first touch), KVM's path: handle_ept_violation,
    /// kvm_mmu_page_fault and kvm_tdp_page_fault; kvm_faultin_pfn finding the memory slot and, through
    /// hva_to_pfn and get_user_pages, the host kernel's fault on the VMM's anonymous memory
    /// (handle_mm_fault, do_anonymous_page: a page allocated and charged); then the SPTE installed by
    /// kvm_tdp_mmu_map. The page's zeroing and the EPT stores are explicit.
    /// </summary>
    EptFirstTouch,

    /// <summary>
    /// A page the guest's balloon gave up, discarded by the host, KVM with a QEMU-like device model:
    /// virtio_balloon_handle_output's lookup of the frame number's memory region
    /// (memory_region_find), then balloon_inflate_page's ram_block_discard_range, one madvise
    /// (MADV_DONTNEED) system call per 4 KiB page: the host kernel's zap of the page (zap_pte_range,
    /// the page freed) and the MMU notifier's kvm_unmap_gfn_range, which clears the EPT entry and
    /// asks for a flush of the VM's TLBs. The EPT store and the flush are explicit.
    /// </summary>
    BalloonPage,

    /// <summary>ksmd takes the next page of a mergeable area (mm/ksm.c: scan_get_next_rmap_item's walk of the VMA, follow_page, the page's rmap_item found or made).</summary>
    KsmScanPage,

    /// <summary>One node of a KSM tree search: the node's page got and mapped (get_ksm_page, or get_mergeable_page in the unstable tree), memcmp_pages up to the first difference; its page's first line is explicit.</summary>
    KsmTreeStep,

    /// <summary>memcmp_pages over two equal pages, all 4 KiB compared (a word at a time); the pages' lines are explicit.</summary>
    KsmPageCompare,

    /// <summary>calc_checksum: jhash2 over the page's 1,024 32-bit words (include/linux/jhash.h: per 12 bytes three adds and __jhash_mix's 18 operations); the page's lines are explicit.</summary>
    KsmChecksum,

    /// <summary>
    /// try_to_merge_one_page: write_protect_page (the VMM's PTE cleared, flushed and set read-only)
    /// and replace_page (the KSM page mapped in its place, the old page's rmap dropped and freed), the
    /// stable node's rmap list, and KVM's MMU notifier for each change (kvm_set_spte_hva). The EPT
    /// store and the VM's TLB flush are explicit.
    /// </summary>
    KsmMerge,

    /// <summary>
    /// A guest's write to a merged page: the EPT violation's fault path (handle_ept_violation,
    /// kvm_mmu_page_fault, hva_to_pfn asking for write access), the host kernel's do_wp_page on the
    /// KSM page (a new page allocated and charged, the KSM page's mapping dropped) and the writable
    /// SPTE installed. The copy of the page and the EPT store are explicit.
    /// </summary>
    KsmCopyOnWrite,

    /// <summary>
    /// A 2 MiB region of guest memory backed by one of the host's transparent huge pages split
    /// because one page of it is to be merged or given back: the host kernel's split_huge_page
    /// (__split_huge_pmd's 512 page-table entries and map counts, mm/huge_memory.c) and the MMU
    /// notifier's kvm_unmap_gfn_range, which zaps the 2 MiB EPT entry. The entry's store and the
    /// VM's TLB flush are explicit; the other pages' refaults are exits of their own.
    /// </summary>
    HugePageSplit,

    /// <summary>
    /// An EPT violation on a page whose 2 MiB entry was zapped: handle_ept_violation,
    /// kvm_mmu_page_fault and kvm_faultin_pfn finding the page present in the host's tables (no
    /// allocation, no zeroing), and kvm_tdp_mmu_map installing a 4 KiB SPTE (the host's mapping of
    /// it is 4 KiB now). The EPT stores are explicit.
    /// </summary>
    EptRefault,

    /// <summary>
    /// Host reclaim looks at one guest page on its LRU lists (mm/vmscan.c: isolate_lru_page, the
    /// page's flags, page_referenced through its rmap to the VMM's mapping, and KVM's MMU notifier,
    /// kvm_mmu_notifier_clear_flush_young and kvm_age_rmapp, which zaps the EPT entry where it is
    /// there; then putback_lru_page). The zap's store is explicit.
    /// </summary>
    HostReclaimScan,

    /// <summary>
    /// Host reclaim sends a guest page to swap: add_to_swap, try_to_unmap_one on the VMM's page
    /// table (its notifier's kvm_unmap_gfn_range finds the EPT entry already zapped) and
    /// swap_writepage's bio, with the host driver's part of the request. The disk's time is the medium's.
    /// </summary>
    HostSwapOut,

    /// <summary>
    /// An EPT violation on a page in the host's swap: handle_ept_violation, kvm_mmu_page_fault and
    /// kvm_faultin_pfn's get_user_pages into the host kernel's do_swap_page, whose lookup_swap_cache
    /// finds the page while its write is in flight (mapped at once, its SPTE installed) or not.
    /// </summary>
    HostSwapIn,

    /// <summary>A page not in the swap cache: read_swap_cache_async (a page allocated, charged and added to the swap cache) and swap_readpage's bio, with the host driver's part of the request.</summary>
    HostSwapRead,

    /// <summary>The virtual CPU's thread wakes in do_swap_page with the page read: lock_page, the PTE set, page_add_anon_rmap, swap_free, and KVM's SPTE installed (kvm_tdp_mmu_map). The EPT store is explicit.</summary>
    HostSwapInMap,

    /// <summary>A device model's <see cref="Devices.EmulationStep.InterruptCause"/>: e1000's ICR read clears the causes and sets the interrupt line anew.</summary>
    NicInterruptCause,

    /// <summary>A device model's <see cref="Devices.EmulationStep.TransmitDescriptor"/>: one e1000 transmit descriptor taken and its frame handed on.</summary>
    NicTransmitDescriptor,

    /// <summary>A device model's <see cref="Devices.EmulationStep.CommandIssue"/>: one AHCI command decoded and submitted.</summary>
    AhciCommandIssue,

    /// <summary>A device model's <see cref="Devices.EmulationStep.VirtqueuePop"/>: one virtio descriptor chain popped and handed to the device.</summary>
    VirtqueuePop,

    /// <summary>A device model's <see cref="Devices.EmulationStep.VirtqueuePush"/>: one buffer returned through the used ring.</summary>
    VirtqueuePush,

    /// <summary>A device model's <see cref="Devices.EmulationStep.AtaCommand"/>: an ATA command decoded and its transfer set up.</summary>
    AtaCommand,

    /// <summary>A device model's <see cref="Devices.EmulationWork.Ioeventfds"/>: the kick's exit signals the backend thread's eventfd (the thread's wake-up is <see cref="VcpuWake"/>'s code, try_to_wake_up).</summary>
    IoeventfdSignal,

    /// <summary>A user-space I/O thread (QEMU's, util/aio-posix.c) gets its host CPU: after the host's switch to it (<see cref="VcpuSchedule"/>'s code), ppoll's return, aio_poll's dispatch of the ready handler, and the read(2) that clears its eventfd.</summary>
    IoThreadWake,

    /// <summary>A vhost worker (drivers/vhost/vhost.c: vhost_worker) gets its host CPU: after the switch to the kernel thread (<see cref="VcpuSchedule"/>'s code), its work list taken and the virtqueue's handler called; no system call.</summary>
    VhostWake,

    /// <summary>A vhost worker hands a request or a frame straight to the host kernel, with no system call and no file layer: a bio of the guest's pages to the block layer and the host driver (submit_bio), or a frame to or from the tap's socket (drivers/vhost/net.c: handle_tx's sendmsg, handle_rx's recvmsg).</summary>
    VhostIo,

    /// <summary>A host I/O a backend submitted completes: after the host disk's interrupt (<see cref="HostInterrupt"/>'s code), its driver, blk-mq's completion, the AIO's completion and the eventfd signal that wakes the backend's thread.</summary>
    HostIoCompletion,

    /// <summary>A user-space I/O thread's write(2) to the irqfd (virtio_notify_irqfd's event_notifier_set): the system call around <see cref="IrqfdInject"/>.</summary>
    IrqfdWrite,

    /// <summary>A device model's <see cref="Devices.EmulationWork.Irqfds"/>: irqfd_wakeup and kvm_set_irq's delivery of the guest's interrupt to its virtual APIC (virt/kvm/eventfd.c, arch/x86/kvm/irq_comm.c).</summary>
    IrqfdInject,

    /// <summary>A device model's <see cref="Devices.EmulationStep.FrameReceive"/>: one frame written to an e1000 receive buffer by the user-space model.</summary>
    NicFrameReceive,

    /// <summary>A device model's <see cref="Devices.EmulationStep.CommandComplete"/>: one AHCI command's completion reported by the user-space model.</summary>
    AhciCommandComplete,

    /// <summary>
    /// A guest's frame crossing the host's software bridge between its tap (or vhost's socket) and
    /// the physical port, either way: the backlog's receive (netif_rx_ni, process_backlog,
    /// __netif_receive_skb_core), br_handle_frame with the forwarding database's learning and lookup
    /// (br_fdb_update, br_fdb_find_rcu), br_forward and the egress device's dev_queue_xmit with its
    /// qdisc (net/bridge/br_input.c, br_forward.c; net/core/dev.c).
    /// </summary>
    HostBridgeForward,

    /// <summary>
    /// One pass of a polling I/O thread's loop (QEMU's util/aio-posix.c run_poll_handlers): each
    /// handler's io_poll called, for a virtqueue virtio_queue_host_notifier_aio_poll's look at the
    /// available ring's index, for Linux AIO qemu_laio_poll_cb's at the completion ring's head and
    /// tail, and the clock read that ends the loop after poll_ns. Its loads of the rings are the path's own.
    /// </summary>
    IoThreadPoll,

    /// <summary>
    /// An event sent on a Xen event channel (EVTCHNOP_send), by the guest's frontend to wake its
    /// backend or by dom0's backend to interrupt the guest: the hypercall's entry and exit, the port
    /// looked up (xen/common/event_channel.c: evtchn_send), the 2-level ABI's pending bit, selector
    /// bit and upcall flag set in the remote domain's shared info (event_2l.c:
    /// evtchn_2l_set_pending, vcpu_mark_events_pending) and its virtual CPU kicked (vcpu_kick); its
    /// wake-up, if it was blocked, is <see cref="VcpuWake"/>'s code.
    /// </summary>
    EventChannelSend,

    /// <summary>
    /// dom0's backend gets its CPU on an event: after Xen's switch to dom0's virtual CPU
    /// (<see cref="VcpuSchedule"/>'s code), the upcall into dom0's kernel (the bounce frame),
    /// Linux's xen_evtchn_do_upcall scanning the selector and pending words, the port's interrupt
    /// handler (drivers/block/xen-blkback: xen_blkif_be_int; drivers/net/xen-netback: xenvif_interrupt)
    /// waking the backend's thread or NAPI, the switch to it (xen_blkif_schedule, xenvif_kthread_guest_rx
    /// or the NAPI poll) and the iret hypercall back.
    /// </summary>
    Dom0Upcall,

    /// <summary>
    /// A grant copy (GNTTABOP_copy, xen/common/grant_table.c: gnttab_copy): the hypercall, the
    /// guest's grant entry checked and marked in use (acquire_grant_for_copy), both frames'
    /// references taken and mapped (map_domain_page), the copy, and the release. netback copies
    /// each frame to or from the guest's granted buffer this way (xenvif_tx_build_gops, and
    /// xenvif_rx_copy_add with gnttab_batch_copy); the grant entry's read and write are the path's own.
    /// </summary>
    GrantCopy,

    /// <summary>
    /// A grant mapping (GNTTABOP_map_grant_ref: map_grant_ref): the guest's grant entry checked and
    /// pinned, a maptrack entry taken, and the guest's frame mapped into dom0's address space
    /// (create_grant_host_mapping writes the page-table entry); blkback maps each request's
    /// segments so (drivers/block/xen-blkback/blkback.c: xen_blkbk_map, gnttab_map_refs).
    /// </summary>
    GrantMap,

    /// <summary>
    /// A grant unmapping (GNTTABOP_unmap_grant_ref: unmap_common and unmap_common_complete): the
    /// maptrack entry found, dom0's page-table entry cleared, the grant unpinned, and the TLB flush
    /// the cleared mapping needs; blkback unmaps a request's segments when its bio completes
    /// (xen_blkbk_unmap from end_block_io_op).
    /// </summary>
    GrantUnmap,

    /// <summary>
    /// dom0's backend hands a request or a frame to its own kernel: blkback copies the request from
    /// the shared ring (RING_COPY_REQUEST), checks it and builds and submits its bio
    /// (dispatch_rw_block_io, submit_bio), and on completion writes the response (make_response);
    /// netback builds the skb and passes it up to its stack (xenvif_tx_submit, netif_receive_skb),
    /// or takes a frame for the guest off its queue (xenvif_rx_action).
    /// </summary>
    Dom0Io,

    /// <summary>A device model's <see cref="Devices.EmulationStep.TransmitContext"/>: one e1000 context descriptor's offsets saved.</summary>
    NicTransmitContext,

    /// <summary>A device model's <see cref="Devices.EmulationStep.ChecksumLine"/>: 64 bytes of a frame summed in QEMU's checksum loop (net/checksum.c: net_checksum_add_cont).</summary>
    NicChecksumLine,

    /// <summary>Shadow paging: a leaf table let out of sync at a guest write to it (KVM's mmu_try_to_unsync_pages and kvm_unsync_page, which marks the parents' unsync_children).</summary>
    ShadowUnsync,

    /// <summary>Shadow paging: an out-of-sync table brought back in sync, its setting up and ending (kvm_sync_page, the write protection of its frame, kvm_unlink_unsync_page).</summary>
    ShadowResyncTable,

    /// <summary>Shadow paging: one present shadow entry of a table being synced compared with its guest entry (FNAME(sync_page)'s loop body).</summary>
    ShadowResyncEntry,

    /// <summary>Shadow paging: one shadow entry filled ahead of a fault from its guest entry (FNAME(prefetch_gpte): the gfn's memslot and pfn, mmu_set_spte).</summary>
    ShadowPrefetchEntry,

    /// <summary>VT-x: a TPR-below-threshold exit (trap-like, after the guest's MOV CR8): the virtual APIC's priority updated and an event request made, so that the pending interrupt is injected on entry (KVM's handle_tpr_below_threshold).</summary>
    TprBelowThreshold,

    /// <summary>Binary translation: one guest instruction decoded into the translator's intermediate form and emitted into a translation (Adams and Agesen 2006, section 3.2).</summary>
    TranslateInstruction,

    /// <summary>Binary translation: the translator's set-up and finish for one translation unit (the unit started, the fragment placed in the translation cache, its entry put in the lookup table).</summary>
    TranslateUnit,

    /// <summary>Binary translation: translated code's lookup of an indirect target (a return's, an indirect call's, or the monitor's entry into translated code) in the table of translations.</summary>
    IndirectLookup,

    /// <summary>Binary translation: a continuation (the jump of a fragment not yet chained) calls the translator's dispatch, which finds or makes the target's translation and patches the jump to go straight to it (chaining).</summary>
    ChainContinuation,

    /// <summary>Binary translation: the monitor's entry through its own IDT for an exception, interrupt or system call of the guest (the hardware's delivery charged apart): the state saved and the vector dispatched, with no instruction decoded.</summary>
    IdtEntry,
}
