namespace Sim.Models.Virtualization;

/// <summary>
/// The instructions each <see cref="HypervisorRoutine"/> executes, besides the memory traffic,
/// VMCS accesses and VMX transitions its handler makes explicitly. No source in hand gives these
/// per path for KVM or ESX, so they are assumed orders of magnitude from what each path does in
/// KVM (docs/virtualization.md); they are parameters, and they are not fitted to any published
/// exit cost: a handler's cycles come out of running them on the machine.
/// </summary>
public sealed class HypervisorCosts
{
    private readonly int[] _instructions;

    public HypervisorCosts(IReadOnlyDictionary<HypervisorRoutine, int> instructions)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        _instructions = new int[Enum.GetValues<HypervisorRoutine>().Length];
        foreach (HypervisorRoutine r in Enum.GetValues<HypervisorRoutine>())
        {
            if (!instructions.TryGetValue(r, out int n) || n <= 0)
            {
                throw new ArgumentException($"The hypervisor costs need a positive instruction count for {r}.", nameof(instructions));
            }
            _instructions[(int)r] = n;
        }
    }

    public int this[HypervisorRoutine routine] => _instructions[(int)routine];

    /// <summary>Assumed counts (docs/virtualization.md, "Handler paths").</summary>
    public static readonly HypervisorCosts Default = new(new Dictionary<HypervisorRoutine, int>
    {
        [HypervisorRoutine.ExitEntry] = 150,
        [HypervisorRoutine.ExitReturn] = 150,
        [HypervisorRoutine.HostInterrupt] = 200,
        [HypervisorRoutine.VcpuBlock] = 800,
        [HypervisorRoutine.VcpuWake] = 800,
        [HypervisorRoutine.VcpuSchedule] = 1000,
        [HypervisorRoutine.PauseYield] = 100,
        [HypervisorRoutine.PvKick] = 300,
        [HypervisorRoutine.StealTimeUpdate] = 80,
        [HypervisorRoutine.VcpuMigrate] = 400,
        [HypervisorRoutine.PortIoDecode] = 100,
        [HypervisorRoutine.MmioDecode] = 1500,
        [HypervisorRoutine.ApicAccessDecode] = 100,
        [HypervisorRoutine.DeviceModel] = 300,
        [HypervisorRoutine.CpuidEmulation] = 200,
        [HypervisorRoutine.MsrEmulation] = 150,
        [HypervisorRoutine.InstructionEmulation] = 200,
        [HypervisorRoutine.InterruptInjection] = 50,
        [HypervisorRoutine.ShadowFill] = 1200,
        [HypervisorRoutine.ExceptionReflection] = 150,
        [HypervisorRoutine.PageTableWriteEmulation] = 400,
        [HypervisorRoutine.Cr3Switch] = 400,
        [HypervisorRoutine.InvlpgEmulation] = 250,
        [HypervisorRoutine.TrapEntry] = 300,
        [HypervisorRoutine.TrapReturn] = 150,
        [HypervisorRoutine.GuestReflection] = 200,
        [HypervisorRoutine.PrivilegedEmulation] = 100,
        [HypervisorRoutine.Callout] = 150,
        [HypervisorRoutine.InCacheEmulation] = 10,
        [HypervisorRoutine.WorldSwitch] = 400,
        [HypervisorRoutine.HostIoctl] = 300,
        [HypervisorRoutine.UserDeviceDispatch] = 400,
        [HypervisorRoutine.HostIoSyscall] = 2000,
        [HypervisorRoutine.PageTableValidation] = 100,
        [HypervisorRoutine.EptFirstTouch] = 2500, // the host kernel's demand-zero fault (1,000, as LinuxKernelCosts) and KVM's fault and map around it
        [HypervisorRoutine.BalloonPage] = 4000, // assumed: QEMU's region lookup (about 1,000) and a madvise system call that zaps one page and runs KVM's MMU notifier (about 3,000); docs/virtualization.md compares the result with a measured inflation
        [HypervisorRoutine.KsmScanPage] = 300, // assumed: a VMA walk step, follow_page's table walk and the rmap_item's list
        [HypervisorRoutine.KsmTreeStep] = 150, // assumed: get_ksm_page's checks, kmap and the first words of memcmp
        [HypervisorRoutine.KsmPageCompare] = 1536, // 4,096 bytes at 8 bytes per three instructions (load, compare, branch; the other load assumed fused): assumed
        [HypervisorRoutine.KsmChecksum] = 7200, // jhash2: 341 rounds of 12 bytes, each three adds and __jhash_mix's 18 operations, plus the loop (include/linux/jhash.h)
        [HypervisorRoutine.KsmMerge] = 3000, // assumed: write_protect_page and replace_page with their TLB flushes and two MMU-notifier calls into KVM, as BalloonPage's zap
        [HypervisorRoutine.KsmCopyOnWrite] = 3000, // assumed: EptFirstTouch's fault path (2,500) and do_wp_page's KSM-page handling
        [HypervisorRoutine.HugePageSplit] = 11_500, // assumed: the host kernel's split as LinuxKernelCosts has the guest's (1,000 and 20 per page: 11,240) and KVM's zap of one entry
        [HypervisorRoutine.EptRefault] = 1500, // assumed: EptFirstTouch's path (2,500) without the host's demand-zero fault (1,000): the page is in the host's tables already
        // Host swap, assumed as the guest kernel's swap paths are (LinuxKernelCosts: ScanPage 150, SwapOut 1,500, SwapInStart 1,200, SwapInMap 1,000):
        [HypervisorRoutine.HostReclaimScan] = 450, // a page looked at (150) and KVM's MMU notifier's age of it (about 300, as a zap's share of BalloonPage)
        [HypervisorRoutine.HostSwapOut] = 2500, // SwapOut (1,500) and the host's block layer and AHCI driver's share of a request (about 1,000)
        [HypervisorRoutine.HostSwapIn] = 1500, // EptRefault's KVM fault path (1,500) into do_swap_page's swap-cache lookup
        [HypervisorRoutine.HostSwapRead] = 2200, // SwapInStart (1,200) and the block layer and driver's share of a request (about 1,000)
        [HypervisorRoutine.HostSwapInMap] = 1500, // SwapInMap (1,000) and KVM's SPTE install (about 500)
        // A device model's work beyond a register's dispatch (DeviceModel, 300), each the path of QEMU's model named in EmulationStep; lengths assumed from those functions' code (docs/virtualization.md, "Device models"):
        [HypervisorRoutine.NicInterruptCause] = 250, // mac_icr_read, set_interrupt_cause's mask and mitigation checks, pci_set_irq down to the interrupt controller's line
        [HypervisorRoutine.NicTransmitDescriptor] = 500, // process_tx_desc's descriptor kinds and offload fields, xmit_seg, e1000_send_packet through the net queue to the backend's send; the frame's copy is explicit
        [HypervisorRoutine.AhciCommandIssue] = 1500, // handle_cmd's header and table mapping, process_ncq_command's FIS decode, ahci_populate_sglist, and the block layer's request set-up (dma_blk_io, its AIOCB and coroutine)
        [HypervisorRoutine.VirtqueuePop] = 600, // virtqueue_pop: the available index and head, each descriptor's mapping (dma_memory_map), the element's allocation; and the device's dispatch of the request
        [HypervisorRoutine.VirtqueuePush] = 200, // virtqueue_fill and virtqueue_flush: the buffers unmapped, the used entry and index written with their barriers
        [HypervisorRoutine.AtaCommand] = 500, // ide_exec_cmd, the command table's handler and the transfer's set-up (ide_sector_start_dma or the PIO buffer)
        // A backend thread on a host CPU (docs/virtualization.md, "Backend threads"), assumed from the functions named in HypervisorRoutine:
        // (The wake-ups run the scheduler's own routines, VcpuWake and VcpuSchedule, besides these.)
        [HypervisorRoutine.IoeventfdSignal] = 200, // ioeventfd_write's match and eventfd_signal; the sleeping thread's wake-up (try_to_wake_up) is VcpuWake's code
        [HypervisorRoutine.IoThreadWake] = 1500, // after the host's switch to the thread (VcpuSchedule's code): ppoll's return and aio_poll's dispatch (about 1,000), the eventfd's read(2) (about 500)
        [HypervisorRoutine.VhostWake] = 200, // after the switch to the kernel thread (VcpuSchedule's code): vhost_worker's work list and the virtqueue's handler called
        [HypervisorRoutine.VhostIo] = 1100, // the bio built from the guest's pages (about 100) and the host's block layer and driver's share of a request (about 1,000, as HostSwapRead's); a frame's sendmsg or recvmsg on the tap assumed alike
        [HypervisorRoutine.HostIoCompletion] = 1100, // after the host disk's interrupt (HostInterrupt's code): the driver's and blk-mq's completion (about 600), aio_complete and eventfd_signal (about 500)
        [HypervisorRoutine.IrqfdWrite] = 500, // write(2)'s entry and exit and eventfd_write, around IrqfdInject
        [HypervisorRoutine.IrqfdInject] = 1000, // irqfd_wakeup, kvm_set_irq through the routing table to the virtual APIC (kvm_irq_delivery_to_apic) and the vCPU's kick
        // Emulated devices' completions in QEMU's main loop (docs/virtualization.md, "Backend threads"), assumed from the functions named in EmulationStep:
        [HypervisorRoutine.NicFrameReceive] = 600, // e1000_receive_iov: e1000_has_rxbufs, the receive filter, the descriptor loop's DMA calls, the write-back and set_ics; the buffer's and descriptor's lines are explicit
        [HypervisorRoutine.AhciCommandComplete] = 400, // ncq_cb and ncq_finish (block accounting, the scatter-gather list freed), ahci_write_fis_sdb, ahci_check_irq; the FIS's line is explicit
        // Assumed from the functions named in HypervisorRoutine.HostBridgeForward (no per-frame instruction count in hand): the backlog's
        // receive about 300, br_handle_frame with the FDB's learning and lookup about 400, br_forward and its netfilter hook check about 200,
        // dev_queue_xmit through the qdisc about 300. docs/virtualization.md compares the bridge's cost with [FE14]'s measured NAT overhead.
        [HypervisorRoutine.HostBridgeForward] = 1200,
        [HypervisorRoutine.IoThreadPoll] = 100, // a pass of run_poll_handlers: two io_poll calls (a ring index compared each), the loop and qemu_clock_get_ns through the vDSO; assumed
        // Xen's split drivers with dom0's backends (docs/virtualization.md, "Xen's driver domain"), assumed from the functions named in
        // HypervisorRoutine (no per-operation instruction count in hand; Santos et al., USENIX ATC 2008, measure dom0's netback path as a whole, not by operation):
        [HypervisorRoutine.EventChannelSend] = 400, // the hypercall's entry and exit (about 150), evtchn_send's port lookup under the event lock, the 2-level pending and selector bits, vcpu_kick
        [HypervisorRoutine.Dom0Upcall] = 1500, // as IoThreadWake: the upcall's bounce frame and xen_evtchn_do_upcall's scan (about 500), the port's handler and the wake-up of the backend's thread (about 500), the switch to it and the iret hypercall (about 500)
        [HypervisorRoutine.GrantCopy] = 900, // the hypercall, acquire_grant_for_copy's checks and cmpxchg of the entry's flags, get_page and map_domain_page for both frames, release; the frame's lines are the device's touches
        [HypervisorRoutine.GrantMap] = 1100, // the hypercall, map_grant_ref's entry checks and pin, the maptrack entry, create_grant_host_mapping's page-table write
        [HypervisorRoutine.GrantUnmap] = 1300, // the hypercall, unmap_common's maptrack lookup, the page-table entry cleared, the unpin, and the TLB flush of the mapping
        [HypervisorRoutine.Dom0Io] = 1100, // as VhostIo: the request copied from the ring and checked, the bio built and submitted through dom0's block layer and driver (about 1,000); a frame's skb built and passed to the stack assumed alike
        // The e1000's checksum offload in QEMU's model (hw/net/e1000.c, process_tx_desc and putsum):
        [HypervisorRoutine.NicTransmitContext] = 100, // process_tx_desc's context branch: the IP and TCP/UDP offsets and the command copied into the transmit state; assumed
        [HypervisorRoutine.NicChecksumLine] = 224, // net_checksum_add_cont's loop (net/checksum.c), two bytes a pass: two loads, two adds, the index, the compare and the branch, seven instructions, over 64 bytes; counted from the function, not measured
        // KVM's shadow MMU (arch/x86/kvm/mmu/mmu.c, paging_tmpl.h); lengths assumed from the functions named in HypervisorRoutine, the memory each touches explicit:
        [HypervisorRoutine.ShadowUnsync] = 150, // mmu_try_to_unsync_pages' walk of the gfn's shadow pages, kvm_unsync_page, kvm_mmu_mark_parents_unsync up the parents
        [HypervisorRoutine.ShadowResyncTable] = 300, // mmu_sync_children's page vector, kvm_sync_page's checks, rmap_write_protect of the frame, kvm_unlink_unsync_page
        [HypervisorRoutine.ShadowResyncEntry] = 40, // FNAME(sync_page)'s loop body for a present entry: the gpte read, prefetch_invalid_gpte, the gfn compared, the access bits recomputed
        [HypervisorRoutine.ShadowPrefetchEntry] = 120, // FNAME(prefetch_gpte): prefetch_invalid_gpte, the memslot and pfn looked up, mmu_set_spte with its rmap_add
        [HypervisorRoutine.TprBelowThreshold] = 60, // handle_tpr_below_threshold: kvm_make_request(KVM_REQ_EVENT); the priority read from the virtual-APIC page on the way in (vmx_sync_pir_to_irr aside)
        // VMware's binary translator (Adams and Agesen, ASPLOS 2006, section 3.2; docs/virtualization.md, "Binary translation"):
        [HypervisorRoutine.TranslateInstruction] = 2300, // "about 2300 cycles per translated x86 instruction" on the P4 [AA06], as 2,300 instructions at the P4 profile's one a cycle; its reads of the guest's code and writes of the translation are explicit
        [HypervisorRoutine.TranslateUnit] = 200, // assumed: the unit begun and ended, the fragment's room taken in the cache, its entry hashed into the lookup table
        [HypervisorRoutine.IndirectLookup] = 12, // the sequence counted, not measured: flags and a scratch register saved (2), the target hashed (2), the entry's tag loaded and compared (3), its translation loaded (1), restored (2) and jumped to (2)
        [HypervisorRoutine.ChainContinuation] = 60, // assumed: the continuation's call into the dispatch, the target's translation looked up, the jump's displacement patched
        [HypervisorRoutine.IdtEntry] = 150, // assumed as Callout's entry: the same state saved, a dispatch on the vector instead of on the callout's number; the exception's delivery is the hardware's (ExceptionDeliveryCycles)
    });
}
