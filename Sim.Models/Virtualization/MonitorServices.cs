using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// What every monitor of the model has, whatever the way it virtualizes the CPU: its text and
/// data in host memory (reached at its own linear base), the virtual machine with its device
/// models and, without EPT, its shadow page tables; the virtual CPU's pending interrupts and the
/// physical kick that makes the core attend to them; and the pieces of handler that every
/// monitor runs: saving and restoring the guest's registers, the host's interrupt handler, a
/// device model's emulation, the memory traffic of a shadow page fault.
/// </summary>
internal sealed class MonitorServices
{
    /// <summary>General-purpose registers saved on every entry to the monitor and restored on leaving it (RAX to R15 but RSP).</summary>
    private const int SavedRegisters = 15;

    private const ulong EoiRegister = Devices.LocalApic.DefaultBase + 0xB0;

    /// <summary>Where a hosted monitor's process sees the monitor's memory, user-accessible: PML4 slot 128, unused by the guests of the model.</summary>
    public const ulong HostProcessBase = 0x0000_4000_0000_0000;

    /// <summary>The system call number of the monitor process's real I/O on the host (a read or write of the image file, a send on the host's socket).</summary>
    public const ulong HostIoSyscall = 0x1000;

    /// <summary>Words of processor state a world switch saves and reloads besides the named instructions: control, debug and segment registers, descriptor-table bases, SYSCALL MSRs, FS and GS bases (a count assumed from that list; no source gives VMware's).</summary>
    private const int WorldStateWords = 32;

    private readonly HypervisorCosts _costs;
    private readonly CodeLayout<HypervisorRoutine> _text;
    private readonly ulong _linearBase;
    private readonly ulong _vcpu;         // the virtual CPU's structure: saved registers and state
    private readonly ulong _deviceState;  // one line of state per device model
    private readonly ulong _worldState;   // the processor state a world switch saves
    private readonly SortedSet<int> _pending = [];
    private readonly Counter _injected;
    private readonly Counter _kicks;
    private readonly Counter _hostIo;
    private readonly VectorCounter<EmulatedDevice> _deviceAccesses;
    private readonly StatGroup _stats;
    private bool _kickSent;
    private VirtualMachine? _vm;

    public MonitorServices(Machine machine, HypervisorCosts costs, ulong linearBase, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(costs);
        ArgumentNullException.ThrowIfNull(stats);
        (Machine, _costs, _linearBase, _stats) = (machine, costs, linearBase, stats);
        _text = new CodeLayout<HypervisorRoutine>(machine.Memory, r => costs[r]);
        _vcpu = machine.Memory.AllocateFrame();
        _deviceState = machine.Memory.AllocateFrame();
        _worldState = machine.Memory.AllocateFrame();
        _injected = stats.Counter("injected_interrupts", "count", "virtual interrupts delivered to the guest (injected on VM entry or reflected)");
        _kicks = stats.Counter("kicks", "count", "physical interrupts sent to a core to make it attend to a virtual interrupt");
        _hostIo = stats.Counter("host_io_syscalls", "count", "hosted: system calls the monitor process made on the host to do a device's real I/O");
        _deviceAccesses = stats.VectorCounter<EmulatedDevice>("device_model_accesses", "count", "register accesses (and paravirtual notifications) a device model emulated, by device");
    }

    public Machine Machine { get; }

    public VirtualMachine Vm => _vm ?? throw new InvalidOperationException("The monitor has created no virtual machine yet.");

    public ShadowPageTables? Shadow { get; private set; }

    public bool HasPendingInterrupt => _pending.Count > 0;

    /// <summary>Creates the virtual machine on core 0, with shadow page tables unless it has an EPT.</summary>
    public VirtualMachine CreateVm(MachineConfiguration configuration, bool nestedPaging, bool largeEptPages, int shadowCacheRoots,
        Action<ulong>? prepareShadowRoot, bool guestKernelAtUserLevel, Action<int> onVirtualInterrupt, bool directPaging = false, bool assignedDisk = false)
    {
        if (_vm is not null)
        {
            throw new InvalidOperationException("This monitor model runs one virtual machine.");
        }
        if (nestedPaging && !Machine.Profile.Features.Ept)
        {
            throw new InvalidOperationException($"{Machine.Profile.Name} has no EPT: nested paging is impossible on it.");
        }
        _vm = new VirtualMachine(Machine, 0, configuration, Machine.Cores[0], nestedPaging, largeEptPages, (_, vector) =>
        {
            _pending.Add(vector);
            onVirtualInterrupt(vector);
        }, directPaging, assignedDisk);
        if (!nestedPaging && !directPaging)
        {
            Shadow = new ShadowPageTables(Machine.Memory, _vm.Memory, _vm.HostBase, shadowCacheRoots, _stats.Child("shadow"), prepareShadowRoot, guestKernelAtUserLevel);
        }
        return _vm;
    }

    public HypervisorPath NewPath() => new(_text, _costs, _linearBase);

    /// <summary>Takes the highest-priority pending virtual interrupt for delivery to the guest.</summary>
    public int TakeInterrupt()
    {
        int vector = _pending.Max;
        _pending.Remove(vector);
        _injected.Increment();
        return vector;
    }

    /// <summary>Takes <paramref name="vector"/> out of the pending interrupts (it is delivered another way, as a posted interrupt).</summary>
    public void Deliver(int vector)
    {
        if (_pending.Remove(vector))
        {
            _injected.Increment();
        }
    }

    /// <summary>Sends the core a physical interrupt on <paramref name="vector"/>, unless one is already on its way.</summary>
    public void Kick(int vector)
    {
        if (!_kickSent)
        {
            _kickSent = true;
            _kicks.Increment();
            Machine.Devices.ApicOf(0).Accept(vector);
        }
    }

    public HypervisorPath SaveRegisters(HypervisorPath path) => path.StoreWords(_vcpu, SavedRegisters);

    public HypervisorPath RestoreRegisters(HypervisorPath path) => path.LoadWords(_vcpu, SavedRegisters);

    /// <summary>The host's interrupt handler: its code and the EOI to the physical local APIC; a kick is then no longer on its way.</summary>
    public void HostInterrupt(HypervisorPath path, int vector, int kickVector)
    {
        if (vector == kickVector)
        {
            _kickSent = false;
        }
        path.Run(HypervisorRoutine.HostInterrupt).Add(Op.MmioWrite(EoiRegister, 0));
    }

    /// <summary>
    /// A device model emulates a register access: the register's semantics on the VM's devices,
    /// its cost the model's code and a read and write of the device's state, charged to device
    /// emulation. Returns the value a read gives the guest.
    /// </summary>
    public ulong? DeviceModel(HypervisorPath path, Instruction instruction, ulong address, ulong value)
    {
        EmulatedDevice device = DeviceOf(instruction, address);
        _deviceAccesses.Increment(device);
        ulong state = _deviceState + ((ulong)device * (ulong)CodeLayout<HypervisorRoutine>.LineBytes); // one line of state per device
        path.ChargeTo(CycleCategory.DeviceEmulation)
            .Run(HypervisorRoutine.DeviceModel)
            .LoadWords(state, 1)
            .StoreWords(state, 1)
            .ChargeTo(CycleCategory.Hypervisor);
        Vm.DeviceAccess(Vm.BootCore, instruction, address, value, out ulong read);
        return instruction is Instruction.In or Instruction.MmioRead ? read : null;
    }

    /// <summary>
    /// A page fault of a guest under shadow paging, as every monitor handles it: the guest's
    /// tables walked in software (each entry a load through the monitor's map of guest memory),
    /// then a hidden fault filled (and the guest's TLB entries flushed if that took a write right
    /// away), or the guest's write to its own page table decoded, done, and the shadow entries
    /// made from it cleared. A true fault is left to the caller to give to the guest.
    /// <paramref name="user"/> is the guest's privilege at the fault.
    /// </summary>
    public ShadowFault ShadowPageFault(Core core, HypervisorPath path, PageFaultErrorCode code, ulong faultAddress, bool user)
    {
        ArgumentNullException.ThrowIfNull(core);
        ShadowPageTables shadow = Shadow ?? throw new InvalidOperationException("A shadow page fault with no shadow page tables.");
        MemoryAccessKind kind = (code & PageFaultErrorCode.Write) != 0 ? MemoryAccessKind.Write
            : (code & PageFaultErrorCode.InstructionFetch) != 0 ? MemoryAccessKind.Fetch : MemoryAccessKind.Read;
        ShadowFault fault = shadow.Resolve(core.Mmu.GuestPml4, faultAddress, kind, user);
        path.Run(HypervisorRoutine.ShadowFill);
        ShadowTraffic(path, fault);
        if (fault.Kind == ShadowFaultKind.Fill)
        {
            FlushIfProtectionsChanged(core);
        }
        else if (fault.Kind == ShadowFaultKind.PageTableWrite)
        {
            path.Run(HypervisorRoutine.MmioDecode).Run(HypervisorRoutine.PageTableWriteEmulation).StoreWords(Vm.HostBase + fault.WrittenGuestPhysical, 1);
            IReadOnlyList<ulong> cleared = shadow.TableWritten(fault.WrittenGuestPhysical);
            foreach (ulong entry in cleared)
            {
                path.StoreWords(entry, 1);
            }
            if (cleared.Count > 0)
            {
                core.Mmu.FlushGuest(); // which linear addresses those entries served is not kept: all of the guest's translations go
            }
        }
        return fault;
    }

    /// <summary>The guest's MOV to CR3 under shadow paging: its shadow root found in the cache or made (and zeroed), loaded for the guest.</summary>
    public void ShadowCr3Load(Core core, HypervisorPath path, ulong guestCr3)
    {
        ArgumentNullException.ThrowIfNull(core);
        path.Run(HypervisorRoutine.Cr3Switch);
        Shadow!.RootFor(guestCr3, out ulong? made);
        if (made is { } page)
        {
            ZeroPage(path, page);
        }
        core.Mmu.LoadGuestCr3(guestCr3);
        FlushIfProtectionsChanged(core);
    }

    /// <summary>The guest's INVLPG under shadow paging: the shadow leaf found (a load per level) and cleared, the guest's TLB entry dropped.</summary>
    public void ShadowInvlpg(Core core, HypervisorPath path, ulong linearAddress)
    {
        ArgumentNullException.ThrowIfNull(core);
        path.Run(HypervisorRoutine.InvlpgEmulation);
        foreach (ulong entry in Shadow!.Invalidate(core.Mmu.GuestPml4, linearAddress))
        {
            path.LoadWords(entry, 1);
        }
        core.Mmu.InvalidateGuestPage(linearAddress);
    }

    /// <summary>Shadow entries lost their write right: the guest's TLB entries may still hold it, so they go.</summary>
    public void FlushIfProtectionsChanged(Core core)
    {
        ArgumentNullException.ThrowIfNull(core);
        if (Shadow is { ProtectionsChanged: true } shadow)
        {
            shadow.ProtectionsChanged = false;
            core.Mmu.FlushGuest();
        }
    }

    /// <summary>The memory traffic of resolving a shadow page fault: the guest entries read, new shadow pages zeroed, shadow entries written.</summary>
    private void ShadowTraffic(HypervisorPath path, ShadowFault fault)
    {
        foreach (ulong gpa in fault.GuestEntriesRead)
        {
            path.LoadWords(Vm.HostBase + gpa, 1);
        }
        foreach (ulong page in fault.ShadowPagesMade)
        {
            ZeroPage(path, page);
        }
        foreach (ulong entry in fault.ShadowEntriesWritten)
        {
            path.StoreWords(entry, 1);
        }
    }

    /// <summary>A new shadow page is zeroed: a store to each of its lines.</summary>
    public static void ZeroPage(HypervisorPath path, ulong page)
    {
        for (ulong line = 0; line < PhysicalMemory.FrameBytes; line += (ulong)CodeLayout<HypervisorRoutine>.LineBytes)
        {
            path.StoreWords(page + line, 1);
        }
    }

    /// <summary>Maps all of host memory user-accessible at <see cref="HostProcessBase"/> in <paramref name="space"/>: the monitor process's view of the monitor's memory.</summary>
    public void MapHostProcess(Paging.AddressSpaceBuilder space)
    {
        ArgumentNullException.ThrowIfNull(space);
        for (ulong pa = 0; pa < Machine.Memory.SizeBytes; pa += 1UL << Paging.PageEntry.LargePageShift)
        {
            space.Map2M(HostProcessBase + pa, pa, Paging.PageEntry.Writable | Paging.PageEntry.User);
        }
    }

    /// <summary>
    /// Whether a hosted monitor emulates the device at <paramref name="address"/> in its process on
    /// the host, rather than in its kernel part, as the local and I/O APICs are, and the virtio
    /// backend is when <paramref name="virtioInKernel"/> (vhost).
    /// </summary>
    public static bool EmulatedInHostProcess(Instruction instruction, ulong address, bool virtioInKernel) =>
        instruction is Instruction.In or Instruction.Out ||
        !(PlatformDevices.IsLocalApic(address) || (address >= Devices.IoApic.DefaultBase && address < Devices.IoApic.DefaultBase + Devices.IoApic.Size) ||
          (virtioInKernel && address >= PlatformDevices.VirtioBase && address < PlatformDevices.VirtioBase + Devices.VirtioBlock.Size));

    /// <summary>
    /// A hosted monitor's device access, composed of the bare-metal exit's first part
    /// (<paramref name="kernelSide"/>, already holding the entry and the decode) and the trip
    /// through the host: the world switch out to the host (the monitor's state saved, CR3, the
    /// descriptor tables and SYSCALL MSRs reloaded), the return from the monitor driver's ioctl to
    /// the monitor process, the device model in user mode, a host system call when the access
    /// sets the device's real I/O going (a register write of the disk or the NIC), and the next
    /// ioctl's entry and the world switch back, which begin <paramref name="resume"/>.
    /// </summary>
    public HostRoundTrip ThroughHost(HypervisorPath kernelSide, ulong cr3, Instruction instruction, ulong address, ulong value, out ulong? read, out HypervisorPath resume)
    {
        ArgumentNullException.ThrowIfNull(kernelSide);
        WorldSwitch(kernelSide.ChargeTo(CycleCategory.WorldSwitch), cr3, save: true).Run(HypervisorRoutine.HostIoctl).Execute(Instruction.Sysret);
        HypervisorPath user = new HypervisorPath(_text, _costs, HostProcessBase).ChargeTo(CycleCategory.DeviceEmulation).Run(HypervisorRoutine.UserDeviceDispatch);
        read = DeviceModel(user, instruction, address, value);
        if (instruction is Instruction.Out or Instruction.MmioWrite && !PlatformDevices.IsLocalApic(address))
        {
            user.ChargeTo(CycleCategory.DeviceEmulation).Execute(Instruction.Syscall, HostIoSyscall);
        }
        resume = WorldSwitch(NewPath().ChargeTo(CycleCategory.WorldSwitch).Run(HypervisorRoutine.HostIoctl), cr3, save: false).ChargeTo(CycleCategory.Hypervisor);
        return new HostRoundTrip(kernelSide.ToStream(), user.ToStream());
    }

    /// <summary>The host kernel's path for the monitor process's system call: its real I/O.</summary>
    public OpSequence HostSyscall(ulong number)
    {
        if (number != HostIoSyscall)
        {
            throw new InvalidOperationException($"The monitor process makes no system call {number}.");
        }
        _hostIo.Increment();
        return NewPath().ChargeTo(CycleCategory.DeviceEmulation).Run(HypervisorRoutine.HostIoSyscall).Execute(Instruction.Sysret).ToStream();
    }

    /// <summary>One direction of a world switch: the state saved (or reloaded), CR3, GDT, IDT, LDT, TR and the three SYSCALL MSRs loaded.</summary>
    private HypervisorPath WorldSwitch(HypervisorPath path, ulong cr3, bool save)
    {
        path.Run(HypervisorRoutine.WorldSwitch);
        _ = save ? path.StoreWords(_worldState, WorldStateWords) : path.LoadWords(_worldState, WorldStateWords);
        path.Execute(Instruction.MovToCr3, cr3).Execute(Instruction.Lgdt).Execute(Instruction.Lidt).Execute(Instruction.Lldt).Execute(Instruction.Ltr);
        for (int msr = 0; msr < 3; msr++)
        {
            path.Execute(Instruction.Wrmsr);
        }
        return path;
    }

    /// <summary>The device an access at <paramref name="address"/> is for.</summary>
    private static EmulatedDevice DeviceOf(Instruction instruction, ulong address) => instruction switch
    {
        Instruction.In or Instruction.Out => EmulatedDevice.Ports,
        _ when PlatformDevices.IsLocalApic(address) => EmulatedDevice.LocalApic,
        _ when address >= Devices.IoApic.DefaultBase && address < Devices.IoApic.DefaultBase + Devices.IoApic.Size => EmulatedDevice.IoApic,
        _ when address >= PlatformDevices.AhciBase && address < PlatformDevices.AhciBase + Devices.AhciDisk.Size => EmulatedDevice.Disk,
        _ when address >= PlatformDevices.VirtioBase && address < PlatformDevices.VirtioBase + Devices.VirtioBlock.Size => EmulatedDevice.Virtio,
        _ => EmulatedDevice.Nic,
    };
}
