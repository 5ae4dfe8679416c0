using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// A virtual machine monitor for x86 without VT-x, in one of its two classic forms. The guest
/// kernel runs deprivileged at CPL 3 (<see cref="Core.EnterDeprivilegedGuest"/>); the monitor
/// lives in the top of every guest address space (PML4 slot 511), owns the real IDT, virtualizes
/// memory with shadow page tables and devices with the VM's device models, and keeps the
/// virtual CPU's interrupt flag.
/// <list type="bullet">
/// <item><b>Trap-and-emulate</b> (Popek and Goldberg's classic monitor): a privileged instruction
/// of the guest kernel faults to the monitor, which emulates it. The sensitive instructions that
/// do not fault at CPL 3 (POPF, PUSHF, IRET, SGDT, SIDT, SMSW, ...) run as the hardware runs them,
/// and their effect on the virtual CPU is lost: the core counts each by instruction
/// (<c>silent_misbehaviour</c>), the report of the virtualization holes the workload met.</item>
/// <item><b>Binary translation</b> (VMware's classic VMM): guest kernel code runs from a
/// <see cref="TranslationCache"/>, translated the first time control enters it; every sensitive
/// instruction becomes either inline emulation on the virtual CPU's state (CLI, STI, PUSHF,
/// POPF, MOV CR8, RDTSC) or a call into the monitor (the rest), so there are no holes and no
/// faults; guest user code runs directly.</item>
/// </list>
/// </summary>
/// <remarks>
/// Model: the monitor cannot see a POPF or IRET of the guest kernel under trap-and-emulate, so
/// its virtual interrupt flag is set again when the guest returns to user mode (SYSRET) or halts
/// (HLT), which is what the guest meant; otherwise a guest kernel that disabled interrupts and
/// restored them with POPF would be left with them off until then. One virtual CPU; guest user
/// and kernel share one shadow (see <see cref="ShadowPageTables"/>).
/// </remarks>
public sealed class SoftwareMonitor : ISoftwareMonitor, IHostedMonitor
{
    /// <summary>Where the monitor maps host memory in every address space: PML4 slot 511, the top 512 GiB.</summary>
    public const ulong MonitorBase = 0xFFFF_FF80_0000_0000;

    /// <summary>The host vector a virtual interrupt kicks the core with (as <see cref="Hypervisor.KickVector"/>).</summary>
    public const int KickVector = Hypervisor.KickVector;

    private readonly Machine _machine;
    private readonly CpuVirtualization _mode;
    private readonly MonitorServices _services;
    private readonly AddressSpaceBuilder _space;
    private readonly TranslationCache? _translations;
    private readonly Stack<bool> _savedFlags = new(); // the virtual IF as the guest's PUSHF saved it (binary translation)
    private readonly MonitorParameters _parameters;
    private readonly Counter _reflections;
    private readonly VectorCounter<XenHypercall> _hypercalls;
    private readonly Counter _validatedUpdates;
    private readonly bool _hosted;
    private readonly ulong _frameInfo; // the hypervisor's page-frame information (type and owner), read and written by each validated update
    private readonly HashSet<ulong> _pinned = [];
    private readonly Stack<int?> _paravirtualEntries = new(); // per guest kernel entry not yet left by iret: the vector of its event upcall, if it was one
    private readonly HashSet<ulong> _adjusted = [];
    private readonly BackendThreads _backends;
    private ICoreHost? _guest;
    private VirtualCpu? _vcpu;
    private bool _virtualInterruptsEnabled = true;

    /// <param name="hosted">Type 2 (VMware Workstation): a device access takes a world switch to the host and a trip through the monitor's process there.</param>
    /// <param name="parameters">Sizes: the shadow cache, the translation cache.</param>
    public SoftwareMonitor(Machine machine, CpuVirtualization mode, HypervisorCosts costs, bool hosted = false, MonitorParameters? parameters = null, HostDevices? hostDevices = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(costs);
        if (mode is not (CpuVirtualization.TrapAndEmulate or CpuVirtualization.BinaryTranslation or CpuVirtualization.Paravirtual))
        {
            throw new ArgumentException($"A software monitor is trap-and-emulate, binary-translation or paravirtual, not {AxisNames.Of(mode)}.", nameof(mode));
        }
        (_machine, _mode, _parameters) = (machine, mode, parameters ?? MonitorParameters.Default);
        _parameters.Validate();
        _space = new AddressSpaceBuilder(machine.Memory);
        for (ulong pa = 0; pa < machine.Memory.SizeBytes; pa += 1UL << PageEntry.LargePageShift)
        {
            _space.Map2M(MonitorBase + pa, pa, PageEntry.Writable | PageEntry.Global); // supervisor: the deprivileged guest cannot reach it
        }
        StatGroup stats = machine.Sim.Stats.Group("host.monitor");
        _services = new MonitorServices(machine, costs, MonitorBase, stats) { HostDevices = hostDevices };
        _reflections = stats.Counter("reflections", "count", "exceptions, system calls and interrupts handed to the guest kernel");
        _hypercalls = stats.VectorCounter<XenHypercall>("hypercalls", "count", "a paravirtual guest kernel's hypercalls, by hypercall");
        _validatedUpdates = stats.Counter("validated_updates", "count", "page-table updates a paravirtual guest sent in mmu_update batches, each validated");
        _frameInfo = machine.Memory.AllocateFrame();
        _hosted = hosted;
        if (hosted)
        {
            _services.MapHostProcess(_space);
        }
        _translations = mode == CpuVirtualization.BinaryTranslation
            ? new TranslationCache(machine.Memory, MonitorBase, _parameters.TranslationCacheKiB << 10, stats.Child("translation_cache"))
            : null;
        _backends = new BackendThreads(machine, _services, mayPoll: _ => false); // dom0's backends block on their event channels
    }

    public VirtualMachine Vm => Vcpu.Vm;

    private VirtualCpu Vcpu => _vcpu ?? throw new InvalidOperationException("The monitor has created no virtual machine yet.");

    /// <summary>Creates the virtual machine on core 0, with shadow page tables that map the monitor into every guest address space. One only: this monitor does not schedule virtual CPUs.</summary>
    public VirtualMachine CreateVm(MachineConfiguration configuration)
    {
        if (_vcpu is not null)
        {
            throw new InvalidOperationException($"The {AxisNames.Of(_mode)} monitor of the model runs one virtual machine.");
        }
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.Cores != 1)
        {
            throw new ArgumentException($"The {AxisNames.Of(_mode)} monitor of the model runs a guest of one virtual CPU (got {configuration.Cores}).", nameof(configuration));
        }
        _vcpu = _services.CreateVm(configuration, nestedPaging: false, _parameters, MapMonitor,
            guestKernelAtUserLevel: true, (v, _) => _services.Kick(v, KickVector), directPaging: _mode == CpuVirtualization.Paravirtual)[0];
        VirtualMachine vm = _vcpu.Vm;
        if (_mode == CpuVirtualization.Paravirtual)
        {
            SharedInfo = vm.Memory.AllocateFrame();
            AddDom0Backends(_vcpu);
        }
        else if (_hosted)
        {
            _backends.AddHostCompletions(_vcpu, _parameters.VirtioBackendInKernel);
        }
        return vm;
    }

    /// <summary>
    /// Xen's split drivers: a paravirtual guest's network card and disk (the model's virtio devices,
    /// standing for netfront and blkfront) are served by dom0's netback and blkback, which run on
    /// dom0's virtual CPU: on the guest's own CPU, or on the one it is pinned to
    /// (<see cref="MonitorParameters.IoThreadCpu"/>, as dom0_vcpus_pin places it). The guest's
    /// notification is an event-channel hypercall, each frame crosses by a grant copy and each
    /// request's page is mapped by grant (<see cref="BackendKind.Dom0"/>); the guest's grant table
    /// is a frame of its memory.
    /// </summary>
    private void AddDom0Backends(VirtualCpu owner)
    {
        PlatformDevices devices = owner.Vm.Devices;
        if (devices.Virtio is null && devices.VirtioNet is null)
        {
            return;
        }
        IoThread dom0 = _backends.Add(owner, _parameters.IoThreadCpu ?? owner.Physical, BackendKind.Dom0);
        dom0.GrantTable = owner.Vm.Memory.AllocateFrame();
        devices.Virtio?.Backend = dom0;
        devices.VirtioNet?.Backend = dom0;
    }

    /// <summary>Once the guest is launched, dom0's CPU, if it is not the guest's, idles in Xen's loop (STI, HLT) so that its backends' wake-up interrupts it there (<see cref="OnInterrupt"/>).</summary>
    public void StartIdleCpus()
    {
        foreach (int physical in _backends.Cpus.Where(p => p != Vcpu.Physical))
        {
            Core core = _machine.Cores[physical];
            if (!core.IsStarted)
            {
                core.Mmu.LoadCr3(_space.Pml4);
                core.Start(new Kernel.IdleThread(), cpl: 0);
            }
        }
    }

    /// <summary>A paravirtual guest's shared-info page (event mask and pending bits), in its memory; 0 for the other modes.</summary>
    public ulong SharedInfo { get; private set; }

    /// <summary>Puts the guest, answered by <paramref name="guestKernel"/>, on the VM's core, deprivileged; the guest kernel then starts its first thread.</summary>
    public void Launch(ICoreHost guestKernel)
    {
        ArgumentNullException.ThrowIfNull(guestKernel);
        _guest = guestKernel;
        Core core = Vm.BootCore;
        core.Mmu.AttachGuest(vpid: 0, _machine.Memory, ept: null, _mode == CpuVirtualization.Paravirtual ? Pin : Vcpu.Shadow!.ShadowRootOf);
        core.EnterDeprivilegedGuest(this);
    }

    public Interception Intercepts(Instruction instruction)
    {
        InstructionInfo info = InstructionTable.Of(instruction);
        return _mode switch
        {
            CpuVirtualization.BinaryTranslation => EmulatedInCache(instruction) ? Interception.InCache
                : info.Sensitive || info.Privileged ? Interception.Translated : Interception.None,
            // The classic monitor sets CR4.TSD, so that the deprivileged guest's RDTSC faults
            // (#GP at CPL > 0 [SDM2, RDTSC]) and reads the virtual TSC instead of the real one.
            CpuVirtualization.TrapAndEmulate => info.Deprivileged == DeprivilegedBehaviour.Traps || instruction == Instruction.Rdtsc ? Interception.Trap : Interception.None,
            // A paravirtual kernel's SYSCALLs are hypercalls; a sensitive instruction left in it faults like any other.
            _ => instruction == Instruction.Syscall ? Interception.Translated
                : info.Deprivileged == DeprivilegedBehaviour.Traps ? Interception.Trap : Interception.None,
        };
    }

    /// <summary>Whether the translator emulates <paramref name="i"/> inside the translation cache (with inline emulation on): CLI, STI, PUSHF, POPF, MOV CR8 and RDTSC.</summary>
    private bool EmulatedInCache(Instruction i) => _parameters.InlineEmulation && i is Instruction.Cli or Instruction.Sti or Instruction.Pushf or
        Instruction.Popf or Instruction.MovToCr8 or Instruction.Rdtsc;

    /// <summary>
    /// Under binary translation, guest kernel code runs from its translation
    /// (<see cref="TranslationCache"/>): straight in when its jump is chained or it falls through;
    /// otherwise after a lookup of the target (translated code's own work, charged to the guest
    /// kernel), or a continuation's call into the translator's dispatch that chains the jump,
    /// translating the line first if it has no fragment (charged to <see cref="CycleCategory.Translation"/>).
    /// </summary>
    public GuestCode OnGuestKernelCode(Core core, in Op fetch)
    {
        if (_translations is not { } cache)
        {
            return new GuestCode(fetch.Operand);
        }
        ulong line = fetch.Operand & ~(ulong)(CodeLayout<HypervisorRoutine>.LineBytes - 1);
        TranslationCache.Route route = cache.RouteTo(line, fetch.Entry);
        if (route is TranslationCache.Route.Straight or TranslationCache.Route.ChainedJump)
        {
            return new GuestCode(cache.Run(line, route), TranslationCache.FragmentBytes, route == TranslationCache.Route.ChainedJump ? 1 : 0);
        }
        if (route == TranslationCache.Route.Lookup)
        {
            bool translated = cache.Holds(line);
            HypervisorPath lookup = _services.NewPath().Add(Op.ChargeTo(CycleCategory.Kernel));
            cache.Lookup(lookup, line, prepares: translated);
            return new GuestCode(fetch.Operand, Before: translated ? Resumed(lookup) : Translator(lookup.Add(Op.ChargeTo(CycleCategory.Translation)), line, chain: false));
        }
        return new GuestCode(fetch.Operand, Before: Translator(_services.NewPath().Add(Op.ChargeTo(CycleCategory.Translation)), line, chain: true));
    }

    public bool TranslatesKernelCode => _translations is not null;

    /// <summary>A translated return: its target looked up in the cache's table, by the guest kernel's translated code (its cycles the guest kernel's).</summary>
    public IOpStream? OnGuestKernelReturn(Core core)
    {
        if (_translations is not { } cache)
        {
            return null;
        }
        HypervisorPath path = _services.NewPath().Add(Op.ChargeTo(CycleCategory.Kernel));
        cache.Return(path);
        return Resumed(path);
    }

    /// <summary>
    /// A store whose translation was adapted (adaptive binary translation, [AA06] section 3.3):
    /// translated code calls the monitor, which walks the guest's tables for the address and does
    /// the write, emulating it on the shadow when the page is traced. No fault, no decode.
    /// </summary>
    public IOpStream? OnGuestKernelWrite(Core core, in Op store)
    {
        ArgumentNullException.ThrowIfNull(core);
        if (_translations is not { } cache || !cache.Adapted(core.GuestKernelSite))
        {
            return null;
        }
        HypervisorPath path = Enter(fromTranslatedCode: true);
        if (MonitorServices.ReadGuestLinear(Vcpu, path, store.Operand, out ulong guestPhysical))
        {
            if (Vcpu.Shadow!.IsProtected(guestPhysical))
            {
                MonitorServices.EmulatePageTableWrite(Vcpu, path, guestPhysical);
            }
            else
            {
                path.StoreWords(Vm.HostAddress(guestPhysical), 1);
            }
        }
        return Leave(path, callout: true);
    }

    /// <summary>
    /// A call out of translated code into the translator (a lookup that missed, or a
    /// continuation): the line translated if it has no fragment (the guest's code read through the
    /// guest's page tables first), and with <paramref name="chain"/> the jump chained to it.
    /// </summary>
    private OpSequence Translator(HypervisorPath path, ulong line, bool chain)
    {
        TranslationCache cache = _translations!;
        Enter(fromTranslatedCode: true, path);
        if (!cache.Holds(line))
        {
            MonitorServices.ReadGuestLinear(Vcpu, path, line, out ulong guestPhysical);
            cache.Translate(path, line, guestPhysical);
            Vcpu.Shadow!.TraceCode(guestPhysical); // a write to the code will fault, to drop the translation
            MonitorServices.FlushIfProtectionsChanged(Vcpu);
        }
        if (chain)
        {
            cache.Chain(path, line);
        }
        return Leave(path, callout: true);
    }

    /// <summary>Back into translated code after the monitor's work (a callout's return, or the end of work in the cache), the rest of a handler charged to the hypervisor again.</summary>
    private static OpSequence Resumed(HypervisorPath path) => path.Add(Op.ChargeTo(CycleCategory.Hypervisor)).Add(Op.Resume()).ToStream();

    public MonitorResponse OnSensitive(Core core, in Op op)
    {
        ArgumentNullException.ThrowIfNull(core);
        Instruction i = op.Instruction;
        if (_mode == CpuVirtualization.BinaryTranslation && EmulatedInCache(i))
        {
            // Emulated inline on the virtual CPU's state (flags, TPR, the virtual TSC): the
            // translation is a short sequence in the translation cache, which goes on after it
            // with no call out and no return of its own.
            HypervisorPath inline = _services.NewPath().Run(HypervisorRoutine.InCacheEmulation);
            VirtualFlags(core, inline, i);
            VirtualTimeStamp(inline, i);
            return new MonitorResponse(Resumed(inline));
        }
        if (i == Instruction.Syscall)
        {
            return OnHypercall(core, op.Operand);
        }
        HypervisorPath path = Enter(fromTranslatedCode: true);
        ulong? read = null;
        bool returnsToUser = false;
        HostRoundTrip? trip = null;
        switch (i)
        {
            case Instruction.Cli or Instruction.Sti or Instruction.Pushf or Instruction.Popf:
                path.Run(HypervisorRoutine.PrivilegedEmulation);
                VirtualFlags(core, path, i);
                break;
            case Instruction.Sysret or Instruction.Iret:
                // Back to where the guest kernel was entered from: its frame goes.
                path.Run(HypervisorRoutine.PrivilegedEmulation);
                _virtualInterruptsEnabled = true;
                returnsToUser = true;
                _translations?.LeftForMonitor();
                if (Vcpu.HasPendingInterrupt)
                {
                    _services.Kick(Vcpu, KickVector); // taken once back in the guest
                }
                break;
            case Instruction.Hlt:
                path.Run(HypervisorRoutine.PrivilegedEmulation);
                Idle(core, path);
                break;
            case Instruction.MovToCr3:
                MonitorServices.ShadowCr3Load(Vcpu, path, op.Operand);
                break;
            case Instruction.Invlpg:
                MonitorServices.ShadowInvlpg(Vcpu, path, op.Operand);
                break;
            case Instruction.In or Instruction.Out:
                read = DeviceModel(core, ref path, HypervisorRoutine.PortIoDecode, op, ref trip);
                break;
            case Instruction.MmioRead or Instruction.MmioWrite:
                read = DeviceModel(core, ref path, HypervisorRoutine.MmioDecode, op, ref trip); // a device page, unmapped in the shadows
                break;
            default:
                path.Run(HypervisorRoutine.PrivilegedEmulation);
                VirtualTimeStamp(path, i);
                break;
        }
        // Translated code called the monitor and goes on where it called from; a trap, a
        // hypercall and a return to guest user mode leave by IRET.
        bool callout = _mode == CpuVirtualization.BinaryTranslation && !returnsToUser;
        return new MonitorResponse(Leave(path, callout), ReturnsToGuestUser: returnsToUser, ReadValue: read, ThroughHost: trip);
    }

    public IOpStream OnHostSyscall(Core core, ulong number) => _services.HostSyscall(number);

    /// <summary>
    /// The device model for an intercepted access, in the monitor, and hosted, when the access set
    /// real I/O going, the trip to its process on the host after a world switch (which reloads the
    /// guest's shadow CR3 on the way back: the host's own address space is not modelled).
    /// </summary>
    private ulong? DeviceModel(Core core, ref HypervisorPath path, HypervisorRoutine decode, in Op op, ref HostRoundTrip? trip)
    {
        path.Run(decode);
        ulong value = Guest.DeviceWriteRuns(op.Instruction, op.Operand, op.Value); // the guest kernel learns its access runs, as VT-x's exit tells it
        if (!_hosted || !MonitorServices.EmulatedInHostProcess(op.Instruction, op.Operand, _parameters.VirtioBackendInKernel))
        {
            return _services.DeviceModel(Vcpu, path, op.Instruction, op.Operand, value);
        }
        trip = _services.ThroughHost(Vcpu, ref path, core.Mmu.GuestPml4, op.Instruction, op.Operand, value, out ulong? read);
        return read;
    }

    /// <summary>A guest user's system call reaches the monitor (it owns the real entry point): reflected to the guest kernel.</summary>
    public IOpStream OnSyscall(Core core, ulong number)
    {
        ArgumentNullException.ThrowIfNull(core);
        HypervisorPath path = Enter().Run(HypervisorRoutine.GuestReflection);
        if (_mode == CpuVirtualization.Paravirtual)
        {
            path.Execute(Instruction.MovToCr3, core.Mmu.GuestPml4); // x86-64 PV: to the guest kernel's page tables
        }
        _reflections.Increment();
        EnteringGuestKernel(upcall: null);
        _translations?.LeftForMonitor();
        core.ReflectToGuestKernel(Guest.OnSyscall(core, number));
        return Leave(path);
    }

    /// <summary>
    /// An exception of the guest: a page fault is resolved against the shadow page tables (a
    /// hidden fault filled and retried, a guest page-table write emulated, or the guest's own
    /// fault reflected); any other exception is the guest's.
    /// </summary>
    public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress)
    {
        ArgumentNullException.ThrowIfNull(core);
        HypervisorPath path = Enter();
        if (_mode == CpuVirtualization.Paravirtual)
        {
            // Direct paging: the guest's own tables raised it; Xen bounces it with the error code
            // the guest's privilege would give (its kernel runs at CPL 3).
            return Reflected(core, path, vector, core.InGuestKernel ? errorCode & ~PageFaultErrorCode.User : errorCode, faultAddress);
        }
        if (vector != ExceptionVector.PageFault)
        {
            return Reflected(core, path, vector, errorCode, faultAddress);
        }
        ShadowFault fault = MonitorServices.ShadowPageFault(Vcpu, path, errorCode, faultAddress, user: !core.InGuestKernel);
        if (fault.Kind == ShadowFaultKind.PageTableWrite && core.InGuestKernel && _translations is { } cache && cache.TracedWriteFaulted(core.GuestKernelSite))
        {
            // The instruction keeps faulting on traced pages: its line is translated again, the write a callout.
            path.Add(Op.ChargeTo(CycleCategory.Translation));
            MonitorServices.ReadGuestLinear(Vcpu, path, core.GuestKernelSite.Line, out _);
            cache.Adapt(path, core.GuestKernelSite);
            path.Add(Op.ChargeTo(CycleCategory.Hypervisor));
        }
        if (fault.Kind == ShadowFaultKind.CodeWrite)
        {
            // The guest wrote code that was translated: its translations go, and the write is retried.
            _translations!.Invalidate(path, fault.WrittenGuestPhysical);
            Vcpu.Shadow!.UntraceCode(fault.WrittenGuestPhysical);
        }
        return fault.Kind switch
        {
            ShadowFaultKind.Fill or ShadowFaultKind.CodeWrite => new ExceptionResponse(Leave(path), RetryFaultingOp: true),
            ShadowFaultKind.GuestFault => Reflected(core, path, ExceptionVector.PageFault, fault.GuestErrorCode, faultAddress),
            _ => new ExceptionResponse(Leave(path), RetryFaultingOp: false), // a page-table write, emulated: the store is not retried
        };
    }

    /// <summary>
    /// A physical interrupt: the kick of a virtual interrupt, which is reflected to the guest kernel
    /// if its virtual IF allows, or the wake-up of dom0's backends, which then run on the core
    /// before the guest gets it back (an interrupt they raise for the guest kicks it anew). On
    /// dom0's own CPU, idle in Xen's loop, only the backends run.
    /// </summary>
    public IOpStream OnInterrupt(Core core, int vector)
    {
        ArgumentNullException.ThrowIfNull(core);
        int physical = _machine.PhysicalIndexOf(core);
        if (physical != Vcpu.Physical)
        {
            HypervisorPath host = _services.NewPath();
            _services.HostInterrupt(physical, host, vector, KickVector);
            StagedStream.Stage Return() => new(_services.NewPath().Execute(Instruction.Iret).ToStream(), null);
            return new StagedStream(host.ToStream(), _backends.OnWake(vector, core, Return) ?? Return);
        }
        HypervisorPath path = Enter();
        _services.HostInterrupt(physical, path, vector, KickVector);
        if (_virtualInterruptsEnabled && Vcpu.HasPendingInterrupt)
        {
            Reflect(core, path);
        }
        return _backends.OnWake(vector, core, () => new StagedStream.Stage(Leave(_services.NewPath()), null)) is { } backends
            ? new StagedStream(path.ToStream(), backends)
            : Leave(path);
    }

    public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
        _machine.DeviceAccess(core, instruction, address, value, out readValue);

    public IOpStream? OnStreamEnd(Core core) => Guest.OnStreamEnd(core);

    private ICoreHost Guest => _guest ?? throw new InvalidOperationException("The monitor has launched no guest.");

    /// <summary>
    /// A paravirtual guest's hypercall (its SYSCALL from kernel mode): validated page-table
    /// updates in a batch, a new base pointer, a TLB flush or INVLPG, the iret back to the
    /// interrupted context (to user mode through a switch to the user page tables), or blocking.
    /// </summary>
    private MonitorResponse OnHypercall(Core core, ulong operand)
    {
        (XenHypercall call, ulong argument, ulong sub) = Hypercall.Decode(operand);
        _hypercalls.Increment(call);
        HypervisorPath path = Enter();
        bool returnsToUser = false;
        switch (call)
        {
            case XenHypercall.MmuUpdate:
                _validatedUpdates.Add((long)(argument >> 12));
                for (ulong n = 0; n < argument >> 12; n++)
                {
                    // Each update: the entry checked against the frame's type and owner, then written.
                    path.Run(HypervisorRoutine.PageTableValidation).LoadWords(_frameInfo, 1).StoreWords(_frameInfo, 1);
                }
                break;
            case XenHypercall.MmuextOp:
                ulong address = argument;
                path.Run(HypervisorRoutine.PrivilegedEmulation);
                _ = sub switch
                {
                    Hypercall.NewBasePointer => path.Run(HypervisorRoutine.Cr3Switch).Execute(Instruction.MovToCr3, address),
                    Hypercall.InvlpgLocal => path.Execute(Instruction.Invlpg, address),
                    _ => path.Execute(Instruction.MovToCr3, core.Mmu.GuestPml4),
                };
                break;
            case XenHypercall.Iret:
                path.Run(HypervisorRoutine.PrivilegedEmulation);
                if (_paravirtualEntries.TryPop(out int? upcall) && upcall is { } vector)
                {
                    // The event is handled: the hypervisor acknowledges the virtual interrupt
                    // behind it (the guest has no APIC to write to), and, for a virtio device's
                    // event over virtio-mmio's line, the device's interrupt status (the guest's
                    // driver does not); a message-signalled one keeps no status to acknowledge.
                    _services.DeviceModel(Vcpu, path, Instruction.MmioWrite, Devices.LocalApic.DefaultBase + 0xB0, 0);
                    if (Vm.Devices.VirtioNet is { Transport: Devices.VirtioTransport.Mmio } && vector == Vm.Devices.IoApic.VectorOf(PlatformDevices.VirtioNetIrq))
                    {
                        _services.DeviceModel(Vcpu, path, Instruction.MmioWrite, PlatformDevices.VirtioNetBase + Devices.VirtioMmioDevice.InterruptAck, 1);
                    }
                    if (Vm.Devices.Virtio is { Transport: Devices.VirtioTransport.Mmio } && vector == Vm.Devices.IoApic.VectorOf(PlatformDevices.VirtioIrq))
                    {
                        _services.DeviceModel(Vcpu, path, Instruction.MmioWrite, PlatformDevices.VirtioBase + Devices.VirtioMmioDevice.InterruptAck, 1);
                    }
                }
                if (core.GuestKernelEnteredFromUser)
                {
                    path.Execute(Instruction.MovToCr3, core.Mmu.GuestPml4); // x86-64 PV: back to the user page tables
                }
                _virtualInterruptsEnabled = true;
                returnsToUser = true;
                if (Vcpu.HasPendingInterrupt)
                {
                    _services.Kick(Vcpu, KickVector);
                }
                break;
            case XenHypercall.SchedOp:
                Idle(core, path);
                break;
            case XenHypercall.EventChannelOp:
                // The split driver's notification on the channel of the device at that page: Xen
                // sets the event pending for dom0's backend and wakes its virtual CPU.
                _services.EventChannelNotify(Vcpu, path, argument + Devices.VirtioMmioDevice.QueueNotify);
                break;
            default:
                throw new InvalidOperationException($"Hypercall {call} is not one this hypervisor model serves.");
        }
        return new MonitorResponse(Leave(path), ReturnsToGuestUser: returnsToUser);
    }

    /// <summary>
    /// Pins a paravirtual guest's top-level table when it is first loaded (Xen validates it): the
    /// hypervisor's own slot 511 is installed, and the guest kernel's mappings are made
    /// user-accessible, since its kernel runs at CPL 3 (Xen's adjust_guest_l*e does the same).
    /// The table is the root the hardware walks: direct paging.
    /// </summary>
    private ulong Pin(ulong pml4)
    {
        PhysicalMemory memory = _machine.Memory;
        if (_pinned.Add(pml4))
        {
            for (int slot = 256; slot < 511; slot++)
            {
                AdjustForCpl3(memory, pml4 + ((ulong)slot * 8), level: 3);
            }
            MapMonitor(pml4);
        }
        return pml4;
    }

    private void AdjustForCpl3(PhysicalMemory memory, ulong entryAddress, int level)
    {
        ulong entry = memory.ReadUInt64(entryAddress);
        if ((entry & PageEntry.Present) == 0)
        {
            return;
        }
        memory.WriteUInt64(entryAddress, entry | PageEntry.User);
        ulong table = entry & PageEntry.AddressMask;
        if (level > 1 && (entry & PageEntry.PageSize) == 0 && _adjusted.Add(table))
        {
            for (ulong i = 0; i < 512; i++)
            {
                AdjustForCpl3(memory, table + (i * 8), level - 1);
            }
        }
    }

    /// <summary>The virtual CPU has nothing to do (HLT, or a paravirtual kernel's block): an interrupt waiting is reflected; otherwise the core idles until the next kick.</summary>
    private void Idle(Core core, HypervisorPath path)
    {
        _virtualInterruptsEnabled = true;
        if (Vcpu.HasPendingInterrupt)
        {
            Reflect(core, path);
        }
        else
        {
            // The monitor halts the core with interrupts open; the kick of the next virtual
            // interrupt reaches OnInterrupt, which reflects it.
            path.Run(HypervisorRoutine.VcpuBlock).Execute(Instruction.Sti).Execute(Instruction.Hlt).Execute(Instruction.Cli).Run(HypervisorRoutine.VcpuWake);
        }
    }

    /// <summary>Every shadow root maps the monitor: its PML4 slot 511 (and, hosted, the monitor process's slot 128) point at the monitor's own tables of host memory.</summary>
    private void MapMonitor(ulong shadowRoot)
    {
        foreach (ulong slot in new ulong[] { 511, MonitorServices.HostProcessBase >> 39 })
        {
            _machine.Memory.WriteUInt64(shadowRoot + (slot * 8), _machine.Memory.ReadUInt64(_space.Pml4 + (slot * 8)));
        }
    }

    /// <summary>
    /// The monitor gets control, the guest's registers saved: under trap-and-emulate through its
    /// trap entry, which finds and decodes the faulting instruction; under binary translation by
    /// a call out of the translation cache (<paramref name="fromTranslatedCode"/>: the translation
    /// names what it calls for), or through the monitor's IDT for an exception, interrupt or
    /// system call, which dispatches on the vector and decodes nothing (a fault that needs its
    /// instruction decodes it in its handler). The paravirtual monitor's entries stay the callout's code.
    /// </summary>
    private HypervisorPath Enter(bool fromTranslatedCode = false, HypervisorPath? path = null) =>
        MonitorServices.SaveRegisters(Vcpu, path ?? _services.NewPath()).Run(_mode switch
        {
            CpuVirtualization.TrapAndEmulate => HypervisorRoutine.TrapEntry,
            CpuVirtualization.BinaryTranslation when !fromTranslatedCode => HypervisorRoutine.IdtEntry,
            _ => HypervisorRoutine.Callout,
        });

    /// <summary>The monitor's registers restored, then back by IRET or, to translated code that called out, by a plain return (<paramref name="callout"/>).</summary>
    private OpSequence Leave(HypervisorPath path, bool callout = false)
    {
        MonitorServices.RestoreRegisters(Vcpu, path.Run(HypervisorRoutine.TrapReturn));
        return callout ? Resumed(path) : path.Execute(Instruction.Iret).ToStream();
    }

    /// <summary>An emulated RDTSC reads the real time-stamp counter, to which the monitor adds the virtual machine's offset.</summary>
    private static void VirtualTimeStamp(HypervisorPath path, Instruction i)
    {
        if (i == Instruction.Rdtsc)
        {
            path.Execute(Instruction.Rdtsc);
        }
    }

    private ExceptionResponse Reflected(Core core, HypervisorPath path, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress)
    {
        path.Run(HypervisorRoutine.GuestReflection);
        _reflections.Increment();
        EnteringGuestKernel(upcall: null);
        _translations?.LeftForMonitor();
        ExceptionResponse guest = Guest.OnException(core, vector, errorCode, faultAddress);
        core.ReflectToGuestKernel(guest.Handler, guest.RetryFaultingOp);
        return new ExceptionResponse(Leave(path), RetryFaultingOp: false);
    }

    /// <summary>A paravirtual guest leaves each kernel entry with one iret hypercall: which entries were event upcalls, and of which vector, is kept for it.</summary>
    private void EnteringGuestKernel(int? upcall)
    {
        if (_mode == CpuVirtualization.Paravirtual)
        {
            _paravirtualEntries.Push(upcall);
        }
    }

    /// <summary>The highest pending virtual interrupt goes to the guest kernel's handler, with virtual interrupts off.</summary>
    private void Reflect(Core core, HypervisorPath path)
    {
        path.Run(HypervisorRoutine.InterruptInjection).Run(HypervisorRoutine.GuestReflection);
        _reflections.Increment();
        int vector = _services.TakeInterrupt(Vcpu);
        EnteringGuestKernel(upcall: vector);
        _translations?.LeftForMonitor();
        _virtualInterruptsEnabled = false;
        core.ReflectToGuestKernel(Guest.OnInterrupt(core, vector));
    }

    /// <summary>CLI, STI, PUSHF and POPF on the virtual interrupt flag; an interrupt waiting for it is reflected once it is set.</summary>
    private void VirtualFlags(Core core, HypervisorPath path, Instruction i)
    {
        switch (i)
        {
            case Instruction.Cli:
                _virtualInterruptsEnabled = false;
                break;
            case Instruction.Sti:
                _virtualInterruptsEnabled = true;
                break;
            case Instruction.Pushf:
                _savedFlags.Push(_virtualInterruptsEnabled);
                break;
            case Instruction.Popf when _savedFlags.TryPop(out bool saved):
                _virtualInterruptsEnabled = saved;
                break;
        }
        if (_virtualInterruptsEnabled && Vcpu.HasPendingInterrupt)
        {
            Reflect(core, path);
        }
    }
}
