using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// A bare-metal (type 1) hypervisor using VT-x: it owns the physical machine, runs a guest on a
/// core in VMX non-root mode with its <see cref="VmExecutionControls"/>, virtualizes its memory
/// with nested paging (EPT) or with shadow page tables (<see cref="ShadowPageTables"/>, on CPUs
/// without EPT), and answers each VM exit
/// with a handler that runs on the core in root mode: code fetched from its own text, the guest's
/// registers saved to and restored from its virtual-CPU structure, VMCS reads and writes, and the
/// work of the exit: a device model for an I/O, MMIO or APIC access (the VM's
/// <see cref="PlatformDevices"/>, emulated), CPUID and MSR emulation, blocking the virtual CPU
/// on HLT, the host's interrupt handler for an external interrupt. Virtual interrupts raised by
/// the device models are injected on VM entry; one that arrives while the guest runs kicks the
/// core out with a physical interrupt (<see cref="KickVector"/>), as KVM does.
/// </summary>
/// <remarks>
/// Model: virtual machines of one virtual CPU each, placed round-robin on the physical cores and
/// time-shared there by <see cref="VcpuScheduler"/> (Xen's credit or Linux's CFS); a core with
/// one virtual CPU has no tick of its own (tickless while its guest runs). A device model performs the register access at the
/// moment of the exit and its cost is the handler's; the device behind it (the SSD, the link)
/// is the VM's own medium model, not the host's driver stack. The software decode of an MMIO
/// instruction is charged as instructions, not as the memory references of walking the guest's
/// tables.
/// </remarks>
public sealed class Hypervisor : ICoreHost, IVmxMonitor, IHostedMonitor
{
    /// <summary>
    /// The host vector that kicks a core out of guest mode or wakes it for a blocked virtual CPU:
    /// Linux's reschedule IPI vector (RESCHEDULE_VECTOR, 0xFD, arch/x86/include/asm/irq_vectors.h),
    /// which KVM sends to a CPU running a guest that has a new event.
    /// </summary>
    public const int KickVector = 0xFD;

    /// <summary>
    /// VMCS fields read on every exit: "handling a typical exit requires ten vmreads" (Adams and
    /// Agesen, ASPLOS 2006): exit reason and qualification, instruction length, guest RIP, RSP and
    /// RFLAGS, the exit and IDT-vectoring interruption information, interruptibility state, and
    /// the guest-physical or guest-linear address.
    /// </summary>
    public const int VmcsReadsPerExit = 10;

    /// <summary>
    /// Words of a VMCS written back by VMCLEAR of the outgoing virtual CPU's VMCS and read by
    /// VMPTRLD and the first entry of the incoming one's, when a core switches virtual CPUs: about
    /// the number of fields of SDM Vol. 3D Appendix B (assumed: the processor's VMCS layout and
    /// caching are undocumented). The image lies in the second half of the virtual CPU's page.
    /// </summary>
    public const int VmcsWords = 150;

    private readonly Machine _machine;
    private readonly MmuVirtualization _mmu;
    private readonly MonitorParameters _parameters;
    private readonly AddressSpaceBuilder _space;
    private readonly MonitorServices _services;
    private readonly VcpuScheduler _scheduler;
    private readonly List<HostProcess> _hostProcesses = [];
    private readonly BackendThreads _backends;
    private readonly bool _hosted;
    private readonly bool _assignedDevices;
    private readonly Sim.Engine.Statistics.Counter _wakes;
    private readonly Sim.Engine.Statistics.Counter _yields;
    private readonly Sim.Engine.Statistics.Counter _mmioFetches;
    private readonly Sim.Engine.Statistics.Counter? _pvTlbFlushes; // with PV TLB flush offered
    private readonly SamePageMerging? _merging; // with KSM on
    private readonly HostSwap? _hostSwap; // with host swap on
    private readonly CallbackEvent? _ksmWake;

    /// <param name="machine">The machine the hypervisor owns (called from the machine's host factory: its cores do not exist yet).</param>
    /// <param name="mmu">Nested or shadow paging; it decides what exits (<see cref="VmExecutionControls.NestedPaging"/>, <see cref="VmExecutionControls.ShadowPaging"/>).</param>
    /// <param name="costs">The instruction counts of its handler routines.</param>
    /// <param name="parameters">Sizes: the shadow cache, the EPT's page size.</param>
    /// <param name="hosted">Type 2: the hypervisor is a driver and a process of a host OS, and a device exit takes a trip through the host.</param>
    /// <param name="assignedDevices">Passthrough: the disk's adapter and a virtual function of the NIC (SR-IOV) are assigned to each guest, their registers mapped so that they do not exit, their DMA through the IOMMU.</param>
    public Hypervisor(Machine machine, MmuVirtualization mmu, HypervisorCosts costs, MonitorParameters? parameters = null, bool hosted = false,
        bool assignedDevices = false, HostDevices? hostDevices = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(costs);
        if (mmu is not (MmuVirtualization.Nested or MmuVirtualization.Shadow))
        {
            throw new ArgumentException($"A VT-x hypervisor virtualizes memory with nested or shadow paging, not {AxisNames.Of(mmu)}.", nameof(mmu));
        }
        _machine = machine;
        _mmu = mmu;
        _parameters = parameters ?? MonitorParameters.Default;
        _parameters.Validate();
        VirtualizationFeatures features = machine.Profile.Features;
        uint pleWindow = _parameters.PleWindowOn(features);
        if (pleWindow > 0 && !features.PauseLoopExiting)
        {
            throw new InvalidOperationException($"{machine.Profile.Name} has no PAUSE-loop exiting: no PLE window can be set.");
        }
        Controls = (mmu == MmuVirtualization.Nested ? VmExecutionControls.NestedPaging : VmExecutionControls.ShadowPaging).ForTprShadow(features.TprShadow) with
        {
            VirtualInterruptDelivery = features.ApicVirtualization,
            ProcessPostedInterrupts = features.PostedInterrupts,
            PauseLoopExiting = pleWindow > 0,
            PleWindow = pleWindow > 0 ? pleWindow : VmExecutionControls.DefaultPleWindow,
            PleGap = _parameters.PleGap,
            AssignedMmio = assignedDevices ? [new(PlatformDevices.AhciBase, Devices.AhciDisk.Size), new(PlatformDevices.NvmeBase, Devices.NvmeController.Size), new(PlatformDevices.NicBase, Devices.Nic8254x.Size)] : null,
        };
        if (assignedDevices && !features.Iommu)
        {
            throw new InvalidOperationException($"{machine.Profile.Name} has no IOMMU: a device cannot be assigned to a guest.");
        }
        _assignedDevices = assignedDevices;
        _space = DirectMap.Build(machine);
        _services = new MonitorServices(machine, costs, DirectMap.Base, machine.Sim.Stats.Group("host.hypervisor")) { HostDevices = hostDevices };
        _scheduler = VcpuScheduler.Create(_parameters.SchedulerFor(hosted ? Hosting.Hosted : Hosting.BareMetal), machine, machine.Sim.Stats.Group("host.hypervisor"), physical => _services.KickCore(physical, KickVector));
        _backends = new BackendThreads(machine, _services, mayPoll: core => _scheduler.TryEntityOf(core) is null); // a thread polls only on a CPU with nothing else to run (the host's idle loop)
        _wakes = machine.Sim.Stats.Group("host.hypervisor").Counter("vcpu_wakes", "count", "virtual CPUs blocked in HLT that a virtual interrupt woke (an IPI to an idle virtual CPU, a timer, a device)");
        _pvTlbFlushes = _parameters.PvTlbFlush ? machine.Sim.Stats.Group("host.hypervisor").Counter("pv_tlb_flushes", "count", "TLB flushes done at a virtual CPU's entry because a shootdown asked for one in its steal-time area while it was preempted (KVM's PV TLB flush)") : null;
        _mmioFetches = machine.Sim.Stats.Group("host.hypervisor").Counter("mmio_instruction_fetches", "count", "MMIO exits whose instruction the emulator fetched through a software walk of the guest's page tables");
        _yields = machine.Sim.Stats.Group("host.hypervisor").Counter("vcpu_yields", "count", "PAUSE-loop exits after which the spinning virtual CPU yielded its core to another");
        _hosted = hosted;
        _services.MapHostProcess(_space); // the monitor's process on the host: a hosted monitor's, or the user-space device model's (QEMU's) of a KVM-like one
        if (_parameters.KsmPagesToScan is { } pages)
        {
            if (mmu != MmuVirtualization.Nested)
            {
                throw new ArgumentException("Page merging (KSM) here merges guest pages through the EPT: it needs nested paging.", nameof(parameters));
            }
            _merging = new SamePageMerging(machine.Memory, pages, _parameters.KsmSleepMilliseconds, machine.Sim.Stats.Group("host.ksm"));
            _ksmWake = new CallbackEvent("host.ksm.wake", WakeKsm);
        }
        if (_parameters.HostSwapBytes > 0)
        {
            if (mmu != MmuVirtualization.Nested)
            {
                throw new ArgumentException("Host swap here takes guest pages out of the EPT: it needs nested paging.", nameof(parameters));
            }
            var kswapdWake = new CallbackEvent("host.kswapd.wake", () => _machine.Devices.ApicOf(KsmCpu).Accept(HostSwap.KswapdVector));
            _hostSwap = new HostSwap(machine.Sim, machine.Memory, _parameters.HostSwapBytes, machine.Sim.Stats.Group("host.swap"), WakeFromHostPage,
                () => _machine.Sim.Schedule(kswapdWake, _machine.Sim.Now)); // on ksmd's CPU (assumed), when the simulation next takes events
        }
    }

    /// <summary>The host CPU ksmd and kswapd run on: the last (assumed: the host's scheduler would put them where it finds room).</summary>
    private int KsmCpu => _machine.Cores.Count - 1;

    /// <summary>ksmd's sleep is over: its CPU is interrupted to run the next batch, unless every guest is done.</summary>
    private void WakeKsm()
    {
        if (_services.Vcpus.Count > 0 && _services.Vcpus.All(v => v.State == VcpuState.PoweredOff))
        {
            return;
        }
        _machine.Devices.ApicOf(KsmCpu).Accept(SamePageMerging.WakeVector);
    }

    /// <summary>
    /// ksmd's batch on <paramref name="core"/> (<see cref="SamePageMerging.Scan"/>), charged to the
    /// hypervisor, then <paramref name="then"/>; at its end its time is counted and its next
    /// wake-up set a sleep later (ksm_scan_thread's schedule_timeout after ksm_do_scan).
    /// </summary>
    private StagedStream.Stage KsmBatch(Core core, Func<StagedStream.Stage> then)
    {
        ulong start = core.LocalCycle;
        HypervisorPath path = _services.NewPath();
        _merging!.Scan(path);
        return new StagedStream.Stage(path.ToStream(), () =>
        {
            _merging.Ran((long)(core.LocalCycle - start));
            _machine.Sim.Schedule(_ksmWake!, core.LocalTime + _merging.Sleep);
            return then();
        });
    }

    /// <summary>kswapd's batch on <paramref name="core"/> (<see cref="HostSwap.Balance"/>), charged to the hypervisor, its writes sent when it has run; then <paramref name="then"/>.</summary>
    private StagedStream.Stage KswapdBatch(Core core, Func<StagedStream.Stage> then)
    {
        ulong start = core.LocalCycle;
        HypervisorPath path = _services.NewPath();
        _hostSwap!.Balance(path);
        return new StagedStream.Stage(path.ToStream(), () =>
        {
            _hostSwap.Submit(core.LocalTime);
            _hostSwap.KswapdRan((long)(core.LocalCycle - start));
            return then();
        });
    }

    /// <summary>The host thread <paramref name="vector"/> wakes on <paramref name="core"/>, ksmd's batch or kswapd's, then <paramref name="then"/>; null for a vector that wakes neither.</summary>
    private Func<StagedStream.Stage>? HostThread(int vector, Core core, Func<StagedStream.Stage> then) =>
        vector == SamePageMerging.WakeVector && _merging is not null ? () => KsmBatch(core, then)
        : vector == HostSwap.KswapdVector && _hostSwap is not null ? () => KswapdBatch(core, then)
        : _backends.OnWake(vector, core, then);

    public VmExecutionControls Controls { get; }

    /// <summary>The first virtual machine, once created.</summary>
    public VirtualMachine Vm => (_services.Vcpus.Count > 0 ? _services.Vcpus[0] : throw new InvalidOperationException("The hypervisor has created no virtual machine yet.")).Vm;

    /// <summary>The virtual machines, in the order they were created.</summary>
    public IReadOnlyList<VirtualMachine> Vms => [.. _services.Vcpus.Where(v => v.Index == 0).Select(v => v.Vm)];

    /// <summary>The first virtual machine's shadow page tables, under shadow paging; null otherwise.</summary>
    public ShadowPageTables? Shadow => _services.Vcpus.Count > 0 ? _services.Vcpus[0].Shadow : null;

    /// <summary>
    /// Creates a virtual machine (guest memory backed and mapped, device models built) with a
    /// virtual CPU per core of <paramref name="configuration"/>, placed as
    /// <paramref name="placement"/> says, by default each on the next physical core in turn with
    /// the default weight (a core's second one starts its scheduler tick); call after the machine
    /// is built.
    /// </summary>
    public VirtualMachine CreateVm(MachineConfiguration configuration, VcpuPlacement? placement = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (_machine.Profile.Features.Vpid && _services.Vcpus.Count + configuration.Cores > byte.MaxValue)
        {
            throw new InvalidOperationException($"The model's VPIDs are 8 bits, one per virtual CPU: at most {byte.MaxValue} virtual CPUs.");
        }
        IReadOnlyList<VirtualCpu> vcpus = _services.CreateVm(configuration, _mmu == MmuVirtualization.Nested, _parameters,
            prepareShadowRoot: null, guestKernelAtUserLevel: false, OnVirtualInterrupt, assignedDevices: _assignedDevices, placement: placement, lazyShadowMmu: MonitorParameters.LazyShadowMmu(CpuVirtualization.HardwareAssist, _hosted ? Hosting.Hosted : Hosting.BareMetal));
        foreach (VirtualCpu vcpu in vcpus)
        {
            _scheduler.Place(vcpu);
        }
        if (_hosted)
        {
            _backends.AddHostCompletions(vcpus[0], _parameters.VirtioBackendInKernel);
        }
        else
        {
            AddBackendThreads(vcpus[0]);
        }
        vcpus[0].Vm.Paravirt = _parameters.PvTlbFlush ? ParavirtFeatures.StealTime | ParavirtFeatures.PvTlbFlush : ParavirtFeatures.None;
        if (_hostSwap is not null)
        {
            vcpus[0].Vm.Swap = _hostSwap;
        }
        if (_merging is not null)
        {
            _merging.Register(vcpus[0].Vm);
            if (!_ksmWake!.Scheduled)
            {
                _machine.Sim.Schedule(_ksmWake, _machine.Sim.Now + _merging.Sleep); // ksmd's first batch a sleep after the first guest is made
            }
        }
        return vcpus[0].Vm;
    }

    /// <summary>
    /// KVM-like: the threads on the host that run a new machine's device backends (QEMU's I/O
    /// thread, and with virtio_backend kernel a vhost worker for the virtio devices). The
    /// user-space thread takes the emulated e1000's and AHCI adapter's host completions (a frame
    /// read from the tap, a request done) and, without vhost, the virtio devices' kicks and
    /// completions. An assigned device has none: it is the hardware's own function.
    /// </summary>
    private void AddBackendThreads(VirtualCpu owner)
    {
        PlatformDevices devices = owner.Vm.Devices;
        bool virtio = devices.Virtio is not null || devices.VirtioNet is not null;
        Nic8254x? nic = _assignedDevices ? null : devices.Nic;
        AhciDisk? ahci = _assignedDevices ? null : devices.Ahci;
        bool inKernel = _parameters.VirtioBackendInKernel;
        IoThread? user = nic is not null || ahci is not null || (virtio && !inKernel) ? NewIoThread(owner, inKernel: false) : null;
        nic?.Backend = user;
        ahci?.Backend = user;
        if (virtio)
        {
            IoThread thread = inKernel ? NewIoThread(owner, inKernel: true) : user!;
            devices.Virtio?.Backend = thread;
            devices.VirtioNet?.Backend = thread;
            if (!inKernel && devices.Virtio is { } disk)
            {
                thread.AddPolled(disk); // QEMU polls a virtio-blk queue of its I/O thread's (virtio-net's is the main loop's)
            }
        }
    }

    private IoThread NewIoThread(VirtualCpu owner, bool inKernel) =>
        _backends.Add(owner, _parameters.IoThreadCpu ?? owner.Physical, inKernel ? BackendKind.HostKernel : BackendKind.UserSpace, _parameters.IoThreadPollMaxNanoseconds);

    /// <summary>
    /// VMLAUNCH of each virtual CPU of <paramref name="vm"/>: loads the hypervisor's own CR3 for
    /// root mode (on a core's first virtual CPU), gives the MMU the guest's translation state (a
    /// VPID per virtual CPU, 1, 2, ... in order of creation, as KVM allocates one per vCPU, where
    /// the CPU has VPIDs), and puts the guest, answered by <paramref name="guestKernel"/>, in the
    /// virtual CPU's context. The guest kernel then starts its first thread on the first virtual
    /// CPU (and its idle loops on the others when it brings them up), which run when the
    /// scheduler gives each virtual CPU its core.
    /// </summary>
    public void Launch(VirtualMachine vm, ICoreHost guestKernel)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(guestKernel);
        bool any = false;
        for (int i = 0; i < _services.Vcpus.Count; i++)
        {
            VirtualCpu vcpu = _services.Vcpus[i];
            if (vcpu.Vm != vm)
            {
                continue;
            }
            any = true;
            Core core = vcpu.Core;
            if (!core.IsDescheduled)
            {
                core.Mmu.LoadCr3(_space.Pml4);
            }
            byte vpid = _machine.Profile.Features.Vpid ? (byte)(i + 1) : (byte)0;
            // Shadow tables live in host memory and are walked one-dimensionally; the guest's own tables under EPT, two-dimensionally.
            vcpu.Translation = vcpu.Shadow is { } shadow
                ? core.Mmu.AttachGuest(vpid, _machine.Memory, ept: null, shadow.ShadowRootOf)
                : core.Mmu.AttachGuest(vpid, vm.Memory, vm.Ept);
            core.EnterGuest(this, guestKernel, vcpu.Translation);
            core.PvSpinThreshold = _parameters.PvSpinlocks ? Core.LinuxSpinThreshold : 0; // the guest kernel found KVM_FEATURE_PV_UNHALT and patched its lock ops
        }
        if (!any)
        {
            throw new ArgumentException($"{vm.Name} is not a virtual machine of this hypervisor.", nameof(vm));
        }
    }

    /// <summary>
    /// A first touch of guest memory backed on demand (KVM's EPT-violation path,
    /// <see cref="HypervisorRoutine.EptFirstTouch"/>): a host frame (or 2 MiB of them) allocated
    /// and zeroed, as the host kernel's do_anonymous_page (or its huge-page fault) clears what it
    /// hands out, any EPT table the mapping needs made (zeroed and linked), and the leaf entry
    /// stored.
    /// </summary>
    private static void FirstTouch(VirtualMachine vm, HypervisorPath path, ulong gpa)
    {
        path.Run(HypervisorRoutine.EptFirstTouch);
        (ulong frame, ulong bytes) = vm.Back(gpa);
        LinkNewTables(vm, path);
        path.ZeroLines(frame, bytes).StoreWords(vm.Ept!.EntryAddress(gpa, bytes == PhysicalMemory.FrameBytes ? 0 : 1), 1);
    }

    /// <summary>Each EPT table a mapping just made, zeroed and linked into its parent (untimed where <paramref name="path"/> is null).</summary>
    internal static void LinkNewTables(VirtualMachine vm, HypervisorPath? path)
    {
        foreach ((ulong table, ulong link) in vm.Ept!.TakeNewTables())
        {
            path?.ZeroLines(table, PhysicalMemory.FrameBytes).StoreWords(link, 1);
        }
    }

    /// <summary>A page of a split 2 MiB region touched again (<see cref="HypervisorRoutine.EptRefault"/>): mapped as a 4 KiB page onto the frame it has, any table the mapping needs made.</summary>
    private static void Refault(VirtualMachine vm, HypervisorPath path, ulong gpa)
    {
        path.Run(HypervisorRoutine.EptRefault);
        ulong entry = vm.Remap(gpa);
        LinkNewTables(vm, path);
        path.StoreWords(entry, 1);
    }

    /// <summary>Whether the virtual CPU of <paramref name="core"/> has a virtual interrupt to take; one parked by its cap takes none until it may run (its core halts all the same).</summary>
    public bool HasPendingInterrupt(Core core) => _services.VcpuOf(core) is { Parked: false, HasPendingInterrupt: true };

    /// <summary>Whether the virtual CPU of <paramref name="core"/> has something to wake it: none once its guest has shut down (a virtual interrupt left pending then would end its core's idle HLT at once, for ever; a kick to steal work still wakes the core).</summary>
    public bool HasWakeEvent(Core core) => _services.VcpuOf(core) is { Parked: false, HasWakeEvent: true, State: not VcpuState.PoweredOff };

    public int AcknowledgeInterrupt(Core core) => _services.TakeInterrupt(_services.VcpuOf(core));

    public ulong TprThreshold(Core core) => _services.VcpuOf(core).MaskedPriority;

    public VmExitResponse OnVmExit(Core core, VmExit exit)
    {
        ArgumentNullException.ThrowIfNull(core);
        VirtualCpu vcpu = _services.VcpuOf(core);
        HypervisorPath path = MonitorServices.SaveRegisters(vcpu, _services.NewPath()).Run(HypervisorRoutine.ExitEntry)
            .StoreWords(vcpu.Registers + MonitorServices.ExitInfoOffset, 3); // the exit's reason, qualification and vectoring information, cached in the vCPU's structure
        for (int i = 0; i < VmcsReadsPerExit; i++)
        {
            path.Execute(Instruction.Vmread);
        }
        ulong? read = null;
        bool skip = true;
        bool blocks = false, yields = false;
        int? hostThread = null;
        GuestException? inject = null;
        HostRoundTrip? trip = null;
        if (exit.Reason == ExitReason.EptViolation)
        {
            vcpu.Vm.Structures.MemslotLookup(path); // kvm_mmu_page_fault: the faulting gfn's slot (none for a device page: then MMIO)
        }
        switch (exit.Reason)
        {
            case ExitReason.ExternalInterrupt:
                _services.HostInterrupt(vcpu.Physical, path, exit.Vector, KickVector);
                if (exit.Vector == VcpuScheduler.TickVector)
                {
                    _scheduler.Ticked(vcpu.Physical);
                    _services.HostCpus.Tick(path, vcpu);
                }
                RunExpiredTimers(path, vcpu.Physical);
                hostThread = exit.Vector;
                skip = false; // no instruction exited
                break;
            case ExitReason.InterruptWindow:
                skip = false;
                break;
            case ExitReason.Hlt:
                AdvanceGuest(path);
                vcpu.HaltedWithInterruptsOff = exit.Value == VmExit.InterruptsBlocked;
                if (vcpu.State == VcpuState.PoweredOff)
                {
                    blocks = true; // its guest shut down while it ran: it stays off (BlockedOrSwitch)
                }
                else if (vcpu.Unhalted)
                {
                    vcpu.Unhalted = false; // kicked before it halted: the HLT ends at once (kvm_vcpu_has_events sees pv_unhalted)
                }
                else if (!vcpu.HasWakeEvent)
                {
                    // Block: the core goes to another runnable virtual CPU, or idles until a
                    // virtual interrupt's kick wakes it (the host's handler takes it, through
                    // OnInterrupt); then that interrupt is injected.
                    vcpu.State = VcpuState.Blocked;
                    path.Run(HypervisorRoutine.VcpuBlock);
                    _services.HostCpus.Dequeue(path, vcpu);
                    blocks = true;
                }
                break;
            case ExitReason.Vmcall when exit.Operand == Core.KickCpuHypercall && exit.Target is { } target:
                // kvm_emulate_hypercall, KVM_HC_KICK_CPU: kvm_pv_kick_cpu_op finds the virtual CPU
                // by its APIC ID, sets pv_unhalted and kicks it.
                path.Run(HypervisorRoutine.PvKick);
                Unhalt(_services.VcpuOf(target));
                AdvanceGuest(path);
                break;
            case ExitReason.Pause:
                // Xen's vmx_vmexit_handler: vcpu_yield(), and the guest's RIP stays at its PAUSE,
                // which runs again when the virtual CPU next runs: its spin goes on.
                path.Run(HypervisorRoutine.PauseYield);
                skip = false;
                yields = true;
                break;
            case ExitReason.IoInstruction:
                read = DeviceModel(vcpu, ref path, exit, HypervisorRoutine.PortIoDecode, ref trip);
                AdvanceGuest(path);
                break;
            case ExitReason.ApicAccess:
                Tick? timer = VirtualApic(vcpu).TimerExpiry;
                read = DeviceModel(vcpu, ref path, exit, HypervisorRoutine.ApicAccessDecode, ref trip);
                TimerWritten(vcpu, path, exit, timer);
                AdvanceGuest(path);
                break;
            case ExitReason.ApicWrite:
                // Trap-like: the write is on the virtual-APIC page and RIP past it; the exit
                // qualification gives the offset, so there is nothing to decode (KVM's
                // handle_apic_write, then kvm_apic_write_nodecode sends the IPI).
                Tick? armed = VirtualApic(vcpu).TimerExpiry;
                read = _services.DeviceModel(vcpu, path, exit.Instruction ?? Instruction.MmioWrite, exit.Operand, exit.Value);
                TimerWritten(vcpu, path, exit, armed);
                break;
            case ExitReason.EptViolation when exit.Instruction is Instruction.MmioRead or Instruction.MmioWrite:
                read = DeviceModel(vcpu, ref path, exit, HypervisorRoutine.MmioDecode, ref trip);
                AdvanceGuest(path);
                break;
            case ExitReason.EptViolation when vcpu.Vm.IsSwapped(exit.FaultAddress):
                blocks = HostSwapIn(vcpu, path, exit.FaultAddress);
                skip = false; // the guest's reference runs again once its page is back
                break;
            case ExitReason.EptViolation when vcpu.Vm.IsUnbacked(exit.FaultAddress):
                if (RoomFor(vcpu, path))
                {
                    FirstTouch(vcpu.Vm, path, exit.FaultAddress);
                }
                else
                {
                    blocks = true;
                }
                skip = false; // the guest's reference runs again, and finds its page
                break;
            case ExitReason.EptViolation when vcpu.Vm.IsUnmapped(exit.FaultAddress):
                Refault(vcpu.Vm, path, exit.FaultAddress);
                skip = false;
                break;
            case ExitReason.EptViolation when _merging?.IsMerged(vcpu.Vm, exit.FaultAddress) == true:
                if (RoomFor(vcpu, path))
                {
                    _merging.BreakOnWrite(vcpu.Vm, path, exit.FaultAddress);
                }
                else
                {
                    blocks = true;
                }
                skip = false; // the write runs again, on the page's own copy
                break;
            case ExitReason.EptViolation:
                throw new InvalidOperationException(
                    $"{vcpu.Vm.Name} referenced guest-physical 0x{exit.FaultAddress:X}, outside its {vcpu.Vm.Memory.SizeBytes >> 20} MiB of memory (linear address 0x{exit.Operand:X}).");
            case ExitReason.TprBelowThreshold:
                path.Run(HypervisorRoutine.TprBelowThreshold); // trap-like: the guest's MOV CR8 is done; the interrupt it unmasked is injected on entry
                break;
            case ExitReason.Cpuid:
                path.Run(HypervisorRoutine.CpuidEmulation);
                AdvanceGuest(path);
                break;
            case ExitReason.Rdmsr or ExitReason.Wrmsr:
                path.Run(HypervisorRoutine.MsrEmulation);
                AdvanceGuest(path);
                break;
            case ExitReason.ExceptionOrNmi when exit.Instruction is Instruction.MmioRead or Instruction.MmioWrite:
                read = DeviceModel(vcpu, ref path, exit, HypervisorRoutine.MmioDecode, ref trip); // a device page, unmapped in the shadow tables
                AdvanceGuest(path);
                break;
            case ExitReason.ExceptionOrNmi when exit.Vector == (int)ExceptionVector.PageFault && vcpu.Shadow is not null:
                (skip, inject) = ShadowPageFault(vcpu, path, exit);
                break;
            case ExitReason.ExceptionOrNmi:
                throw new InvalidOperationException(
                    $"Exception vector {exit.Vector} exited, but this hypervisor handles only page faults under shadow paging (exception bitmap 0x{Controls.ExceptionBitmap:X}).");
            case ExitReason.ControlRegisterAccess when exit.Instruction == Instruction.MovToCr3 && vcpu.Shadow is not null:
                MonitorServices.ShadowCr3Load(vcpu, path, exit.Operand);
                path.Execute(Instruction.Vmwrite); // the shadow root into the VMCS's guest CR3
                AdvanceGuest(path);
                break;
            case ExitReason.Invlpg when vcpu.Shadow is not null:
                MonitorServices.ShadowInvlpg(vcpu, path, exit.Operand);
                AdvanceGuest(path);
                break;
            default:
                path.Run(HypervisorRoutine.InstructionEmulation);
                AdvanceGuest(path);
                break;
        }
        Func<StagedStream.Stage> then = blocks ? () => BlockedOrSwitch(vcpu)
            : yields ? () => Yield(vcpu)
            : (hostThread is { } vector ? HostThread(vector, core, () => Leave(vcpu, inject: vcpu.HasPendingInterrupt)()) : null)
                ?? Leave(vcpu, inject: vcpu.HasPendingInterrupt);
        if (_hostSwap is { } swap)
        {
            Func<StagedStream.Stage> after = then;
            then = () =>
            {
                swap.Submit(core.LocalTime); // the reads and writes the handler decided on go to the disk as it ends
                return after();
            };
        }
        return new VmExitResponse(new StagedStream(path.ToStream(), then), skip, read, inject, trip);
    }

    /// <summary>
    /// The end of an exit handler for a virtual CPU that can go on: back to its guest (after
    /// injecting a virtual interrupt when <paramref name="inject"/>), unless the scheduler gives
    /// the core to another virtual CPU first (the checks a hypervisor makes before every VM entry,
    /// as Xen does for its softirqs); then it goes back when the core is handed back to it.
    /// </summary>
    private Func<StagedStream.Stage> Leave(VirtualCpu vcpu, bool inject) => () =>
        _scheduler.Preempting(vcpu, vcpu.Core.LocalCycle) is { } next
            ? SwitchTo(vcpu, next, then: () => ResumeUnlessParked(vcpu, inject: vcpu.HasPendingInterrupt))
            : ResumeUnlessParked(vcpu, inject);

    /// <summary>
    /// A virtual CPU that yields after a PAUSE-loop exit: Xen credit's yield puts it behind the
    /// other runnable entities of its core, even one of a lower priority (csched_vcpu_yield, and
    /// __runq_insert's "put it behind one lower-priority runnable vcpu"), so the best of them
    /// takes the core now; with none, it goes back to its guest, and spins on.
    /// </summary>
    private StagedStream.Stage Yield(VirtualCpu vcpu)
    {
        if (_scheduler.Next(vcpu) is not { } next)
        {
            return Leave(vcpu, vcpu.HasPendingInterrupt)();
        }
        _yields.Increment();
        return SwitchTo(vcpu, next, then: () => ResumeUnlessParked(vcpu, inject: vcpu.HasPendingInterrupt));
    }

    private StagedStream.Stage ResumeUnlessParked(VirtualCpu vcpu, bool inject) => vcpu.Parked ? WaitForCredit(vcpu) : Resume(vcpu, inject);

    /// <summary>
    /// A virtual CPU parked by its cap with no other to hand the core to: the core halts in root
    /// mode, a wait counted as steal time (as Xen's runstate counts a paused virtual CPU offline,
    /// which a Linux guest reports as steal), until the scheduler's tick wakes it to look again.
    /// </summary>
    private StagedStream.Stage WaitForCredit(VirtualCpu vcpu)
    {
        vcpu.Core.WaitsForCredit = true;
        return new StagedStream.Stage(_services.NewPath().Execute(Instruction.Hlt).ToStream(), () =>
        {
            vcpu.Core.WaitsForCredit = false;
            vcpu.ChargedTo = vcpu.Core.LocalCycle; // the wait burns no credit: it did not run
            return Leave(vcpu, vcpu.HasPendingInterrupt)();
        });
    }

    /// <summary>The last part of every exit handler: the pending virtual interrupt injected, the guest's registers restored, VMRESUME.</summary>
    private StagedStream.Stage Resume(VirtualCpu vcpu, bool inject)
    {
        HypervisorPath path = _services.NewPath();
        if (vcpu.StealUpdate)
        {
            vcpu.StealUpdate = false;
            RecordStealTime(vcpu, path);
        }
        if (inject)
        {
            path.Run(HypervisorRoutine.InterruptInjection).Execute(Instruction.Vmwrite); // VM-entry interruption information
        }
        path.Run(HypervisorRoutine.ExitReturn).LoadWords(vcpu.Registers + MonitorServices.RequestsOffset, 1).StoreWords(vcpu.Registers + MonitorServices.RequestsOffset + 8, 1); // requests checked, mode set
        MonitorServices.RestoreRegisters(vcpu, path).Execute(Instruction.Vmresume);
        return new StagedStream.Stage(path.ToStream(), null);
    }

    /// <summary>
    /// KVM's record_steal_time, at the first entry after <paramref name="vcpu"/> was scheduled in,
    /// where its guest registered a steal-time area: the preempted byte exchanged for 0, and if a
    /// shootdown set KVM_VCPU_FLUSH_TLB there meanwhile, the virtual CPU's TLB flushed
    /// (kvm_vcpu_flush_tlb_guest: INVVPID of its VPID, or nothing more to do without VPIDs, whose
    /// entry flushes anyway), in place of the IPI it was not sent.
    /// </summary>
    private void RecordStealTime(VirtualCpu vcpu, HypervisorPath path)
    {
        if (vcpu.Vm.StealTimeOf(vcpu.Index) is not { } area)
        {
            return;
        }
        ulong preempted = area + KvmStealTime.PreemptedOffset;
        path.Run(HypervisorRoutine.StealTimeUpdate).Atomic(vcpu.Vm.HostAddress(preempted)).StoreWords(vcpu.Vm.HostAddress(area), 2); // the xchg; the steal time and its version
        ulong state = vcpu.Vm.ReadWord(preempted);
        vcpu.Vm.WriteWord(preempted, 0);
        if ((state & KvmStealTime.FlushTlb) != 0)
        {
            vcpu.Core.Mmu.FlushGuest();
            _pvTlbFlushes!.Increment();
        }
    }

    /// <summary>
    /// A blocked virtual CPU (HLT with nothing to inject): woken by a virtual interrupt, it is
    /// scheduled back and the interrupt injected (by a PV spinlock's kick, scheduled back with
    /// nothing to inject); otherwise the core goes to another runnable virtual CPU, or halts until
    /// a kick (or the scheduler's tick) wakes it, and looks again. One whose guest has shut down
    /// meanwhile stays off.
    /// </summary>
    private StagedStream.Stage BlockedOrSwitch(VirtualCpu vcpu)
    {
        if (vcpu.State == VcpuState.PoweredOff)
        {
            return PoweredOffSwitch(vcpu); // its guest shut down while it was blocked: nothing wakes it again
        }
        if (vcpu.HasWakeEvent)
        {
            vcpu.State = VcpuState.Runnable;
            HypervisorPath wake = _services.NewPath().Run(HypervisorRoutine.VcpuWake);
            RunExpiredTimers(wake, vcpu.Physical);
            _services.HostCpus.Enqueue(wake, vcpu, _scheduler.InsertionWalk(vcpu), _scheduler.TryRunningOn(vcpu.Physical));
            if (vcpu.HostPageReady)
            {
                vcpu.HostPageReady = false; // a kick meanwhile is kept for its next HLT
                if (vcpu.MappedEntry is { } entry)
                {
                    wake.Run(HypervisorRoutine.HostSwapInMap).StoreWords(entry, 1);
                    vcpu.MappedEntry = null;
                }
            }
            else
            {
                vcpu.Unhalted = false;
            }
            vcpu.ChargedTo = vcpu.Core.LocalCycle; // its core idled meanwhile: that burns none of its credit
            StagedStream.Stage resume = ResumeUnlessParked(vcpu, inject: vcpu.HasPendingInterrupt);
            return new StagedStream.Stage(wake.ToStream(), () => resume);
        }
        if (_scheduler.Next(vcpu) is { } next)
        {
            return SwitchTo(vcpu, next, then: () => BlockedOrSwitch(vcpu));
        }
        return new StagedStream.Stage(_services.NewPath().Execute(Instruction.Hlt).ToStream(), () => BlockedOrSwitch(vcpu));
    }

    /// <summary>
    /// The switch path from <paramref name="from"/> to <paramref name="to"/> on their core: the
    /// scheduler's code, VMCLEAR of an outgoing virtual CPU's VMCS and VMPTRLD of an incoming
    /// one's (their images written and read), then the hand-over at this cycle
    /// (<see cref="VcpuScheduler.Switch"/>) and <paramref name="from"/>'s context parked; when the
    /// core comes back to it, <paramref name="then"/>.
    /// </summary>
    private StagedStream.Stage SwitchTo(SchedulingEntity from, SchedulingEntity to, Func<StagedStream.Stage>? then)
    {
        const ulong vmcsOffset = Memory.PhysicalMemory.FrameBytes / 2;
        to.Claimed = true; // until the hand-over at the path's end, no other core steals it
        HypervisorPath switching = _services.NewPath().Run(HypervisorRoutine.VcpuSchedule);
        _services.HostCpus.Switch(switching, from, to, from.State == VcpuState.Runnable ? _scheduler.InsertionWalk(from) : null);
        if (from is VirtualCpu outgoing)
        {
            switching.StoreWords(outgoing.Registers + vmcsOffset, VmcsWords);
            if (outgoing.State == VcpuState.Runnable && outgoing.Vm.StealTimeOf(outgoing.Index) is { } area)
            {
                // kvm_arch_vcpu_put of a virtual CPU put while it could run: kvm_steal_time_set_preempted.
                switching.StoreWords(outgoing.Vm.HostAddress(area + KvmStealTime.PreemptedOffset), 1);
                outgoing.Vm.WriteWord(area + KvmStealTime.PreemptedOffset, KvmStealTime.Preempted);
            }
        }
        if (to is VirtualCpu incoming)
        {
            switching.LoadWords(incoming.Registers + vmcsOffset, VmcsWords);
            if (incoming.Migrated)
            {
                // vmx_vcpu_load on a new CPU: the per-CPU host state the VMCS holds rewritten
                // (HOST_TR_BASE, HOST_GDTR_BASE; HOST_IA32_SYSENTER_ESP read from its MSR).
                switching.Run(HypervisorRoutine.VcpuMigrate).Execute(Instruction.Vmwrite).Execute(Instruction.Vmwrite).Execute(Instruction.Rdmsr).Execute(Instruction.Vmwrite);
            }
        }
        OpSequence path = switching.ToStream();
        return new StagedStream.Stage(path, () =>
        {
            ParkReason reason = from.State switch
            {
                VcpuState.Blocked => ParkReason.Blocked,
                VcpuState.PoweredOff => ParkReason.PoweredOff,
                _ => ParkReason.Preempted,
            };
            _scheduler.Switch(from, to);
            if (to is VirtualCpu loaded)
            {
                loaded.StealUpdate = true; // kvm_arch_vcpu_load's KVM_REQ_STEAL_UPDATE
                if (loaded.Migrated)
                {
                    loaded.Core.Mmu.FlushGuest(); // vpid_sync_vcpu_all: what this core's TLBs kept of its VPID from an earlier stay is stale
                    loaded.Migrated = false;
                }
            }
            return new StagedStream.Stage(new OpSequence([Op.Park(reason)]), then);
        });
    }

    /// <summary>
    /// The guest on <paramref name="core"/> has nothing left to run: it shuts down, and its
    /// virtual CPUs power off (the others idle in their guest's idle loop, halted); this one gives
    /// the core to another one of the core's, at once if one is runnable, or after idling until
    /// one wakes. Null (the core halts) when it was the core's only virtual CPU.
    /// </summary>
    public IOpStream? OnGuestStopped(Core core)
    {
        VirtualCpu vcpu = _services.VcpuOf(core);
        foreach (VirtualCpu sibling in _services.Vcpus)
        {
            if (sibling.Vm == vcpu.Vm && sibling.State != VcpuState.PoweredOff)
            {
                sibling.State = VcpuState.PoweredOff;
                _scheduler.PoweredOff(sibling);
            }
        }
        if (_services.Vcpus.All(v => v.State == VcpuState.PoweredOff))
        {
            _hostProcesses.ForEach(p => p.Stopped = true); // every guest is done: so is the host's load
        }
        bool others = _services.Vcpus.Any(v => v.Physical == vcpu.Physical && v.State != VcpuState.PoweredOff) || _scheduler.MayStealLater || _scheduler.Next(vcpu) is not null;
        return others ? new StagedStream(new OpSequence(), () => PoweredOffSwitch(vcpu)) : null;
    }

    private StagedStream.Stage PoweredOffSwitch(VirtualCpu vcpu) =>
        _scheduler.Next(vcpu) is { } next
            ? SwitchTo(vcpu, next, then: null)
            : new StagedStream.Stage(_services.NewPath().Execute(Instruction.Hlt).ToStream(), () => PoweredOffSwitch(vcpu));

    /// <summary>
    /// A page fault of the guest under shadow paging (<see cref="MonitorServices.ShadowPageFault"/>):
    /// a hidden fault retried, a true fault injected into the guest, or a page-table write
    /// emulated and skipped. Returns whether the guest skips the faulting instruction, and what to inject.
    /// </summary>
    private static (bool Skip, GuestException? Inject) ShadowPageFault(VirtualCpu vcpu, HypervisorPath path, VmExit exit)
    {
        var code = (PageFaultErrorCode)exit.Value;
        ShadowFault fault = MonitorServices.ShadowPageFault(vcpu, path, code, exit.FaultAddress, user: (code & PageFaultErrorCode.User) != 0);
        switch (fault.Kind)
        {
            case ShadowFaultKind.Fill:
                return (false, null);
            case ShadowFaultKind.GuestFault:
                path.Run(HypervisorRoutine.ExceptionReflection).Execute(Instruction.Vmwrite).Execute(Instruction.Vmwrite); // interruption information, error code
                return (false, new GuestException(ExceptionVector.PageFault, fault.GuestErrorCode, exit.FaultAddress));
            default:
                AdvanceGuest(path);
                return (true, null);
        }
    }

    /// <summary>
    /// A physical interrupt reaches the host side: the kick that wakes a core halted for a blocked
    /// virtual CPU, or, over a host process, the scheduler's tick or a kick for a woken virtual
    /// CPU. The host's handler and EOI; over a host process, the scheduler may then hand the core
    /// to a virtual CPU (boosted, or its slice over) before the IRET.
    /// </summary>
    public IOpStream OnInterrupt(Core core, int vector)
    {
        SchedulingEntity? entity = _scheduler.TryEntityOf(core); // none on a CPU that idles for a backend thread (StartIdleCpus)
        int physical = entity?.Physical ?? _machine.PhysicalIndexOf(core);
        if (vector == VcpuScheduler.TickVector)
        {
            _scheduler.Ticked(physical);
        }
        HypervisorPath path = _services.NewPath();
        _services.HostInterrupt(physical, path, vector, KickVector);
        StagedStream.Stage Return() => new(_services.NewPath().Execute(Instruction.Iret).ToStream(), null);
        Func<StagedStream.Stage> rest = entity is HostProcess process
            ? () => _scheduler.Preempting(process, core.LocalCycle) is { } next ? SwitchTo(process, next, Return) : Return()
            : Return;
        return new StagedStream(path.ToStream(), HostThread(vector, core, rest) ?? rest);
    }

    /// <summary>
    /// Once every guest is launched: each host CPU that a host thread runs on (a backend thread,
    /// or ksmd and kswapd on <see cref="KsmCpu"/>) and no virtual CPU does starts the host's idle
    /// loop (STI, HLT) in root mode, so that the thread's wake-up interrupts it there as it would
    /// a virtual CPU's core (<see cref="OnInterrupt"/>). Without it such a CPU never took the
    /// interrupt, and ksmd on a host with a CPU more than its guests' never ran.
    /// </summary>
    public void StartIdleCpus()
    {
        IEnumerable<int> hostThreads = _backends.Cpus;
        if (_merging is not null || _hostSwap is not null)
        {
            hostThreads = hostThreads.Append(KsmCpu);
        }
        foreach (int physical in hostThreads.Distinct().Order())
        {
            Core core = _machine.Cores[physical];
            if (!core.IsStarted && _scheduler.TryRunningOn(physical) is null)
            {
                core.Mmu.LoadCr3(_space.Pml4);
                core.Start(new Kernel.IdleThread(), cpl: 0);
            }
        }
    }

    /// <summary>
    /// Hosted: <paramref name="count"/> CPU-bound processes of the host (<see cref="HostProcess"/>)
    /// placed round-robin on the host's cores after the virtual machines, each in a context of
    /// its own, competing with the virtual CPUs for the cores. Call after the guests are launched.
    /// </summary>
    public void AddHostProcesses(int count)
    {
        if (!_hosted)
        {
            throw new InvalidOperationException("Host processes compete with the guests only under a hosted hypervisor: a bare-metal one has no host.");
        }
        for (int i = 0; i < count; i++)
        {
            int physical = i % _machine.Cores.Count;
            Core context = _machine.AddContext(physical, $"host.process{i}");
            ulong workingSet = _machine.Memory.AllocateContiguous(HostProcess.WorkingSetBytes);
            var process = new HostProcess(context, physical, MonitorServices.HostProcessBase + workingSet, HostProcess.WorkingSetBytes) { Pinned = true }; // the host's own scheduler is not modelled: each stays where it was placed
            _hostProcesses.Add(process);
            context.Start(process, cpl: 3);
            _scheduler.Place(process);
        }
    }

    public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress) =>
        throw new InvalidOperationException($"The hypervisor itself raised {vector} at 0x{faultAddress:X} (error code {errorCode}).");

    public IOpStream OnSyscall(Core core, ulong number) => throw new InvalidOperationException("SYSCALL in VMX root mode outside the monitor process: the hypervisor makes none.");

    public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
        _machine.DeviceAccess(core, instruction, address, value, out readValue);

    public IOpStream? OnStreamEnd(Core core) => null;

    /// <summary>
    /// A virtual interrupt from a VM's local APIC: pending until injected. With posted interrupts,
    /// one for a running guest is posted to the core and delivered without an exit. Otherwise a
    /// core running the guest, or halted for its blocked virtual CPU, is kicked; a core in an exit
    /// handler injects it on its VMRESUME without one. A virtual CPU that was blocked while
    /// another ran on its core wakes boosted, and the core is kicked so that the running one
    /// exits and the scheduler hands the core over.
    /// </summary>
    private void OnVirtualInterrupt(VirtualCpu vcpu, int vector)
    {
        if (vector == VirtualApic(vcpu).TimerVector)
        {
            _services.HostCpus.TimerExpired(vcpu); // its hrtimer fired on the host
        }
        Core core = vcpu.Core;
        if (vcpu.State == VcpuState.Blocked && vcpu.HaltedWithInterruptsOff)
        {
            return; // pending until it can take it: halted with its interrupts off, only a kick wakes it
        }
        if (!WakeIfBlocked(vcpu))
        {
            return;
        }
        if (Controls.ProcessPostedInterrupts && core.VmxMode == VmxMode.NonRoot && !core.Halted)
        {
            _services.Deliver(vcpu, vector);
            core.PostInterrupt(vector); // no exit: the CPU delivers it to the running guest
            return;
        }
        if (!(core.VmxMode == VmxMode.Root && !core.Halted))
        {
            _services.Kick(vcpu, KickVector);
        }
    }

    /// <summary>
    /// A virtual CPU halted for a spinlock is kicked (KVM_HC_KICK_CPU): its HLT ends without an
    /// interrupt. Blocked, it wakes as a virtual interrupt would wake it, and its core is kicked
    /// if it idles in root mode for it; not yet halted, its HLT will end at once.
    /// </summary>
    private void Unhalt(VirtualCpu vcpu)
    {
        if (vcpu.State == VcpuState.PoweredOff)
        {
            return;
        }
        vcpu.Unhalted = true;
        if (vcpu.State == VcpuState.Blocked && WakeIfBlocked(vcpu) && vcpu.Core.Halted)
        {
            _services.Kick(vcpu, KickVector);
        }
    }

    /// <summary>
    /// Wakes <paramref name="vcpu"/> if it is blocked: runnable again, and if the scheduler says it
    /// preempts the one its core runs (credit's boost, CFS's wakeup preemption), that core is
    /// kicked so that the scheduler hands it over. Returns whether it is the one its core runs (if not, nothing
    /// more is to be done).
    /// </summary>
    private bool WakeIfBlocked(VirtualCpu vcpu)
    {
        if (vcpu.AwaitingHostPage)
        {
            return false; // blocked in the host's fault: what it waits for wakes it (WakeFromHostPage), an interrupt stays pending
        }
        bool running = _scheduler.IsRunning(vcpu);
        if (vcpu.State == VcpuState.Blocked)
        {
            if (!vcpu.HostPageReady)
            {
                _wakes.Increment();
            }
            vcpu.State = VcpuState.Runnable;
            _scheduler.Woken(vcpu, running);
            vcpu.Core.Unblock();
        }
        if (running)
        {
            return true;
        }
        if (vcpu.Boosted)
        {
            _services.Kick(vcpu, KickVector);
        }
        return false;
    }

    /// <summary>
    /// With host swap, room for the new frame a guest's fault needs: a reclaim pass charged to
    /// the handler where the host's free memory is at the min watermark. False when the pass
    /// freed nothing yet: the virtual CPU blocks until a swap write ends, then retries its access.
    /// </summary>
    private bool RoomFor(VirtualCpu vcpu, HypervisorPath path)
    {
        if (_hostSwap is null || _hostSwap.MakeRoom(path))
        {
            return true;
        }
        _hostSwap.WaitForFrame(vcpu);
        BlockForHostPage(vcpu, path);
        return false;
    }

    /// <summary>
    /// An EPT violation on a page in the host's swap (<see cref="HostSwap.SwapIn"/>): mapped at once
    /// if its write is still in flight; otherwise the virtual CPU blocks for its read (or for free
    /// memory to read it into). Returns whether it blocks.
    /// </summary>
    private bool HostSwapIn(VirtualCpu vcpu, HypervisorPath path, ulong gpa)
    {
        path.Run(HypervisorRoutine.HostSwapIn);
        bool needsFrame = _hostSwap!.NeedsFrame(vcpu.Vm, gpa);
        if (needsFrame && !RoomFor(vcpu, path))
        {
            return true;
        }
        if (_hostSwap.SwapIn(vcpu.Vm, gpa, vcpu, vcpu.Core.LocalTime) is { } entry)
        {
            path.StoreWords(entry, 1);
            return false;
        }
        if (needsFrame)
        {
            path.Run(HypervisorRoutine.HostSwapRead);
        }
        BlockForHostPage(vcpu, path);
        return true;
    }

    private void BlockForHostPage(VirtualCpu vcpu, HypervisorPath path)
    {
        vcpu.State = VcpuState.Blocked;
        vcpu.AwaitingHostPage = true;
        path.Run(HypervisorRoutine.VcpuBlock);
        _services.HostCpus.Dequeue(path, vcpu);
    }

    /// <summary>What a virtual CPU blocked in the host's fault waited for came (its page read, with the EPT entry that maps it, or a write's end that may have freed memory): it is woken as a virtual interrupt wakes a halted one, its core kicked where it idles for it.</summary>
    private void WakeFromHostPage(VirtualCpu vcpu, ulong? entry)
    {
        vcpu.AwaitingHostPage = false;
        vcpu.HostPageReady = true;
        vcpu.MappedEntry = entry;
        if (vcpu.State == VcpuState.Blocked && WakeIfBlocked(vcpu) && vcpu.Core.Halted)
        {
            _services.Kick(vcpu, KickVector);
        }
    }

    /// <summary>A virtual CPU's virtual local APIC (its timer is one of the host's hrtimers).</summary>
    private static LocalApic VirtualApic(VirtualCpu vcpu) => vcpu.Vm.Devices.ApicOf(vcpu.Index);

    /// <summary>
    /// A guest's write of its local APIC's timer initial count arms or stops its virtual timer
    /// (KVM's kvm_lapic_reg_write, APIC_TMICT: cancel_apic_timer, then start_apic_timer's
    /// hrtimer_start) in its core's timer queue; <paramref name="before"/> is when it was to
    /// expire before the write.
    /// </summary>
    private void TimerWritten(VirtualCpu vcpu, HypervisorPath path, VmExit exit, Tick? before)
    {
        if (exit.Instruction is Instruction.MmioWrite && exit.Operand == LocalApic.DefaultBase + LocalApic.TimerInitialCount)
        {
            _services.HostCpus.ArmTimer(path, vcpu.Physical, vcpu, VirtualApic(vcpu).TimerExpiry, before is not null, ArmedTimers(vcpu));
        }
    }

    /// <summary>The virtual timers that expired on <paramref name="physical"/> taken out of its timer queue, a periodic one queued again.</summary>
    private void RunExpiredTimers(HypervisorPath path, int physical) =>
        _services.HostCpus.RunExpiredTimers(path, physical, v => VirtualApic(v).TimerExpiry, ArmedTimers);

    /// <summary>The timers armed in <paramref name="vcpu"/>'s core's queue besides its own: the host's tick, while the core's scheduler ticks, and the other virtual CPUs' there.</summary>
    private List<(Tick Expiry, ulong Node)> ArmedTimers(VirtualCpu vcpu)
    {
        int physical = vcpu.Physical;
        var armed = new List<(Tick, ulong)>();
        if (_machine.Devices.ApicOf(physical).TimerExpiry is { } tick)
        {
            armed.Add((tick, _services.HostCpus.TickNodeOf(physical)));
        }
        foreach (VirtualCpu other in _services.Vcpus)
        {
            if (other != vcpu && other.Physical == physical && VirtualApic(other).TimerExpiry is { } at)
            {
                armed.Add((at, HostCpuStructures.TimerNodeOf(other)));
            }
        }
        return armed;
    }

    /// <summary>The exit's instruction is done: the guest's RIP moves past it (its length was among the fields read).</summary>
    private static void AdvanceGuest(HypervisorPath path) => path.Execute(Instruction.Vmwrite);

    /// <summary>
    /// Decodes the access (<paramref name="decode"/>), then the device model emulates it in the
    /// hypervisor; hosted, an access that set real I/O going then takes the trip to the monitor
    /// process after a world switch to the host (the handler so far becomes the trip's first part,
    /// and <paramref name="path"/> the part that resumes the guest). Returns the value a read gives the guest.
    /// </summary>
    private ulong? DeviceModel(VirtualCpu vcpu, ref HypervisorPath path, VmExit exit, HypervisorRoutine decode, ref HostRoundTrip? trip)
    {
        Instruction instruction = exit.Instruction ?? throw new InvalidOperationException($"A {exit.Reason} exit without its instruction.");
        path.Run(decode);
        if (decode == HypervisorRoutine.MmioDecode && MonitorServices.FetchGuestInstruction(vcpu, path, vcpu.Core.LastGuestFetch))
        {
            _mmioFetches.Increment();
        }
        ulong? read;
        if (_hosted && MonitorServices.EmulatedInHostProcess(instruction, exit.Operand, _parameters.VirtioBackendInKernel))
        {
            trip = _services.ThroughHost(vcpu, ref path, _space.Pml4, instruction, exit.Operand, exit.Value, out read);
        }
        else if (!_hosted && MonitorServices.InUserSpace(vcpu.Vm, instruction, exit.Operand))
        {
            trip = _services.ToUserSpace(vcpu, ref path, instruction, exit.Operand, exit.Value, out read);
        }
        else
        {
            read = _services.DeviceModel(vcpu, path, instruction, exit.Operand, exit.Value);
        }
        return read;
    }

    public IOpStream OnHostSyscall(Core core, ulong number) => _services.HostSyscall(number);
}
