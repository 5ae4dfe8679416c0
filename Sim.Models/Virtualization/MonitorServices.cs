using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// What every monitor of the model has, whatever the way it virtualizes the CPU: its text and
/// data in host memory (reached at its own linear base), its virtual machines with their device
/// models and, without EPT, their shadow page tables, one <see cref="VirtualCpu"/> each; the
/// virtual interrupts pending for each and the physical kick that makes a core attend to them;
/// and the pieces of handler that every monitor runs: saving and restoring a guest's registers,
/// the host's interrupt handler, a device model's emulation, the memory traffic of a shadow page
/// fault. Virtual machines are placed round-robin on the physical cores: the first on each core
/// runs in the core's own context, the others in contexts added to it (<see cref="Machine.AddContext"/>).
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

    /// <summary>The system call number of the monitor process's real I/O that is a frame: a send or receive on the tap, whose frame the host's bridge then forwards (<see cref="HypervisorRoutine.HostBridgeForward"/>).</summary>
    public const ulong HostFrameSyscall = 0x1001;

    /// <summary>Words of processor state a world switch saves and reloads besides the named instructions: control, debug and segment registers, descriptor-table bases, SYSCALL MSRs, FS and GS bases (a count assumed from that list; no source gives VMware's).</summary>
    private const int WorldStateWords = 32;

    private readonly HypervisorCosts _costs;
    /// <summary>
    /// The hypervisor's text image: a fixed 512 KiB run (the routines take about 260 KiB, most of
    /// it KSM's and the huge-page split's loops counted as straight-line code), so that a handler
    /// added later does not move the structures allocated after it. Raised from 256 KiB when that
    /// filled (every virtualized result moved once). An assumption of size only; KVM's kvm.ko and
    /// kvm-intel.ko hold several hundred KiB of text.
    /// </summary>
    private const ulong TextBytes = 512UL << 10;

    private readonly CodeLayout<HypervisorRoutine> _text;
    private readonly ulong _linearBase;
    private readonly List<VirtualCpu> _vcpus = [];
    private readonly bool[] _kickSent; // per physical core: a kick is on its way
    private readonly Counter _injected;
    private readonly Counter _kicks;
    private readonly Counter _hostIo;
    private readonly Counter _bridged;
    private readonly Counter _hostTrips;
    private readonly Counter _userExits;
    private readonly VectorCounter<EmulatedDevice> _deviceAccesses;
    private readonly VectorCounter<EmulationStep> _deviceSteps;
    private readonly Counter _deviceLines;
    private readonly StatGroup _stats;
    private readonly VectorCounter<MonitorStructures.Lookup> _lookups;

    /// <summary>The host's physical disk and port the virtual machines' devices share, or null for devices of their own.</summary>
    public HostDevices? HostDevices { get; init; }

    public MonitorServices(Machine machine, HypervisorCosts costs, ulong linearBase, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(costs);
        ArgumentNullException.ThrowIfNull(stats);
        (Machine, _costs, _linearBase, _stats) = (machine, costs, linearBase, stats);
        _text = new CodeLayout<HypervisorRoutine>(machine.Memory, r => costs[r], TextBytes);
        _lookups = stats.VectorCounter<MonitorStructures.Lookup>("handler_lookups", "count", "lookups the handlers made in the monitor's structures: a guest frame's memory slot, a device on the I/O bus, a guest table's shadow pages in the hash, a physical CPU's run queue and timer queue");
        _kickSent = new bool[machine.Cores.Count];
        HostCpus = new HostCpuStructures(machine.Memory, machine.Cores.Count, _lookups);
        _injected = stats.Counter("injected_interrupts", "count", "virtual interrupts delivered to the guest (injected on VM entry or reflected)");
        _kicks = stats.Counter("kicks", "count", "physical interrupts sent to a core to make it attend to a virtual interrupt");
        _hostTrips = stats.Counter("host_trips", "count", "hosted: device accesses that took the trip to the monitor process on the host (a world switch each way) because they set real I/O going");
        _userExits = stats.Counter("user_exits", "count", "KVM-like: device accesses that returned from KVM_RUN to the user-space device model (KVM_EXIT_MMIO, KVM_EXIT_IO) and came back by the next KVM_RUN");
        _hostIo = stats.Counter("host_io_syscalls", "count", "system calls a hosted monitor's process or a user-space I/O thread made on the host to do a device's real I/O");
        _bridged = stats.Counter("bridged_frames", "count", "guests' frames the host's software bridge forwarded between a backend's tap and the physical port");
        _deviceAccesses = stats.VectorCounter<EmulatedDevice>("device_model_accesses", "count", "register accesses (and paravirtual notifications) a device model emulated, by device");
        _deviceSteps = stats.VectorCounter<EmulationStep>("device_model_steps", "count", "pieces of work the device models did for register accesses besides the dispatch (a descriptor taken, a command issued, a chain popped), by kind");
        _deviceLines = stats.Counter("device_model_guest_lines", "lines", "cache lines of guest memory the device models read, wrote or copied for register accesses");
    }

    public Machine Machine { get; }

    /// <summary>Each physical CPU's run queue and timer queue.</summary>
    public HostCpuStructures HostCpus { get; }

    /// <summary>The virtual CPUs, in the order their machines were created.</summary>
    public IReadOnlyList<VirtualCpu> Vcpus => _vcpus;

    /// <summary>The virtual CPU that runs in <paramref name="core"/>'s context.</summary>
    public VirtualCpu VcpuOf(Core core)
    {
        foreach (VirtualCpu v in _vcpus)
        {
            if (v.Core == core)
            {
                return v;
            }
        }
        throw new InvalidOperationException($"No virtual CPU runs in {core?.Path}.");
    }

    /// <summary>
    /// Creates a virtual machine with a virtual CPU per core of <paramref name="configuration"/>,
    /// placed as <paramref name="placement"/> says (the first on its pinned CPU or the next
    /// physical core in turn, the others on the CPUs after it, with the default weight), with shadow page tables unless it has an EPT
    /// (or pages directly); its virtual interrupts are kept pending for the virtual CPU they are
    /// for and reported to <paramref name="onVirtualInterrupt"/>. Returns the virtual CPUs, the
    /// first one first. <paramref name="lazyShadowMmu"/>: the monitor's shadow MMU lets leaf tables
    /// go out of sync and prefetches, as KVM's does, unless the parameters say otherwise.
    /// </summary>
    public IReadOnlyList<VirtualCpu> CreateVm(MachineConfiguration configuration, bool nestedPaging, MonitorParameters parameters,
        Action<ulong>? prepareShadowRoot, bool guestKernelAtUserLevel, Action<VirtualCpu, int> onVirtualInterrupt, bool directPaging = false, bool assignedDevices = false,
        VcpuPlacement? placement = null, bool lazyShadowMmu = false)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(onVirtualInterrupt);
        ArgumentNullException.ThrowIfNull(parameters);
        if (nestedPaging && !Machine.Profile.Features.Ept)
        {
            throw new InvalidOperationException($"{Machine.Profile.Name} has no EPT: nested paging is impossible on it.");
        }
        if (configuration.Cores > 1 && !nestedPaging)
        {
            throw new ArgumentException("A virtual machine of several virtual CPUs needs nested paging here: the model keeps shadow page tables per virtual CPU, and those of one guest would not see each other's write-protection.", nameof(configuration));
        }
        int index = _vcpus.Count == 0 ? 0 : _vcpus[^1].Vm.Index + 1;
        bool shadowPaging = !nestedPaging && !directPaging;
        var vcpus = new VirtualCpu[configuration.Cores];
        var contexts = new Core[configuration.Cores];
        var physicals = new int[configuration.Cores];
        var frames = new (ulong Registers, ulong DeviceState, ulong WorldState)[configuration.Cores]; // the structure, device state and world-switch area of each
        int first = placement?.Cpu ?? _vcpus.Count % Machine.Cores.Count;
        if (first < 0 || first >= Machine.Cores.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(placement), first, $"The host has logical CPUs 0 to {Machine.Cores.Count - 1}.");
        }
        for (int i = 0; i < contexts.Length; i++)
        {
            int physical = (first + i) % Machine.Cores.Count; // the next CPUs in turn
            // The first virtual CPU on a core runs in the core's own context, later ones in contexts added to it.
            bool taken = !_vcpus.TrueForAll(v => v.Physical != physical) || physicals.AsSpan(0, i).Contains(physical);
            contexts[i] = taken ? Machine.AddContext(physical, $"vm{index}.vcpu{i}") : Machine.Cores[physical];
            physicals[i] = physical;
            frames[i] = (Machine.Memory.AllocateFrame(), Machine.Memory.AllocateFrame(), Machine.Memory.AllocateFrame());
        }
        var vm = new VirtualMachine(Machine, index, configuration, contexts, physicals[0], nestedPaging, nestedPaging && parameters.LargeEptPages, (cpu, vector) =>
        {
            vcpus[cpu].Pending.Add(vector);
            onVirtualInterrupt(vcpus[cpu], vector);
        }, directPaging, assignedDevices, nestedPaging && parameters.GuestMemoryOnTouch, HostDevices)
        {
            StructureBytes = (3UL * (ulong)vcpus.Length + (ulong)MonitorStructures.Frames(shadowPaging)) * PhysicalMemory.FrameBytes, // the three frames of each, above, and the VM's structures
            Structures = MonitorStructures.Allocate(Machine.Memory, shadowPaging, _lookups),
        };
        for (int i = 0; i < vcpus.Length; i++)
        {
            vcpus[i] = new VirtualCpu(vm, i, physicals[i], frames[i].Registers, frames[i].DeviceState, frames[i].WorldState) { Weight = placement?.Weight ?? VcpuPlacement.DefaultWeight, Cap = VcpuPlacement.CapOfEach(placement?.Cap ?? 0, vcpus.Length), Pinned = placement?.Cpu is not null };
            if (shadowPaging)
            {
                vcpus[i].Shadow = new ShadowPageTables(Machine.Memory, vm.Memory, vm.HostBase, parameters.ShadowCacheRoots, _stats.Child(index == 0 ? "shadow" : $"shadow{index}"),
                    prepareShadowRoot, guestKernelAtUserLevel, parameters.UnshadowAfterWrites, parameters.UnsyncShadowPages ?? lazyShadowMmu, parameters.ShadowPrefetch ?? lazyShadowMmu);
            }
        }
        _vcpus.AddRange(vcpus);
        return vcpus;
    }

    public HypervisorPath NewPath() => new(_text, _costs, _linearBase);

    /// <summary>Takes <paramref name="vcpu"/>'s highest-priority pending virtual interrupt for delivery to its guest.</summary>
    public int TakeInterrupt(VirtualCpu vcpu)
    {
        int vector = vcpu.Pending.Max;
        vcpu.Pending.Remove(vector);
        _injected.Increment();
        return vector;
    }

    /// <summary>Takes <paramref name="vector"/> out of <paramref name="vcpu"/>'s pending interrupts (it is delivered another way, as a posted interrupt).</summary>
    public void Deliver(VirtualCpu vcpu, int vector)
    {
        if (vcpu.Pending.Remove(vector))
        {
            _injected.Increment();
        }
    }

    /// <summary>Sends <paramref name="vcpu"/>'s physical core an interrupt on <paramref name="vector"/>, unless one is already on its way.</summary>
    public void Kick(VirtualCpu vcpu, int vector) => KickCore(vcpu.Physical, vector);

    /// <summary>Sends physical core <paramref name="physical"/> an interrupt on <paramref name="vector"/>, unless one is already on its way.</summary>
    public void KickCore(int physical, int vector)
    {
        if (!_kickSent[physical])
        {
            _kickSent[physical] = true;
            _kicks.Increment();
            Machine.Devices.ApicOf(physical).Accept(vector);
        }
    }

    public static HypervisorPath SaveRegisters(VirtualCpu vcpu, HypervisorPath path) => path.StoreWords(vcpu.Registers, SavedRegisters);

    /// <summary>
    /// Where in a virtual CPU's structure, after its saved registers, a VT-x exit's information is
    /// kept (KVM's vcpu_vmx: exit_reason, exit_qualification, idt_vectoring_info, read from the VMCS
    /// once and cached), and the requests and mode an entry checks and sets (vcpu_enter_guest:
    /// kvm_request_pending, vcpu->mode = IN_GUEST_MODE).
    /// </summary>
    public const ulong ExitInfoOffset = 128, RequestsOffset = 192;

    public static HypervisorPath RestoreRegisters(VirtualCpu vcpu, HypervisorPath path) => path.LoadWords(vcpu.Registers, SavedRegisters);

    /// <summary>The host's interrupt handler on physical core <paramref name="physical"/>: its code and the EOI to the physical local APIC; a kick is then no longer on its way.</summary>
    public void HostInterrupt(int physical, HypervisorPath path, int vector, int kickVector)
    {
        if (vector == kickVector)
        {
            _kickSent[physical] = false;
        }
        path.Run(HypervisorRoutine.HostInterrupt).Add(Op.MmioWrite(EoiRegister, 0));
    }

    /// <summary>
    /// A device model emulates a register access: the register's semantics on the VM's devices,
    /// its cost the model's dispatch and a read and write of the device's state, then the work the
    /// device recorded for the access (<see cref="EmulationWork"/>: its steps' code, its reads and
    /// writes of guest memory), charged to device emulation. Returns the value a read gives the
    /// guest; the real I/Os the access set going stay in the VM's <see cref="EmulationWork"/>.
    /// <paramref name="where"/> is where the model runs: in the host kernel, or in user space.
    /// </summary>
    public ulong? DeviceModel(VirtualCpu vcpu, HypervisorPath path, Instruction instruction, ulong address, ulong value, BackendKind where = BackendKind.HostKernel)
    {
        EmulatedDevice device = DeviceOf(instruction, address);
        _deviceAccesses.Increment(device);
        ulong state = vcpu.DeviceState + ((ulong)device * (ulong)CodeLayout<HypervisorRoutine>.LineBytes); // one line of state per device
        EmulationWork work = Recorded(vcpu, instruction, address, value, out ulong read);
        if (device != EmulatedDevice.LocalApic)
        {
            vcpu.Vm.Structures.IoBusLookup(path, (int)device); // KVM looks the in-kernel I/O bus up first (kernel_pio, vcpu_mmio_write); the local APIC is checked before it
        }
        path.ChargeTo(CycleCategory.DeviceEmulation)
            .Run(HypervisorRoutine.DeviceModel)
            .LoadWords(state, 1)
            .StoreWords(state, 1);
        Emulate(vcpu, path, work, where);
        path.ChargeTo(CycleCategory.Hypervisor);
        if (device == EmulatedDevice.Balloon)
        {
            DiscardBalloonPages(vcpu.Vm, path);
        }
        return instruction is Instruction.In or Instruction.MmioRead ? read : null;
    }

    /// <summary>
    /// A paravirtual guest's frontend notifies its backend on an event channel (Xen's
    /// EVTCHNOP_send from the guest): no device model runs in the hypervisor; the notification at
    /// <paramref name="address"/> reaches the device, whose backend is dom0's, and the event's
    /// sending and dom0's wake-up are the path's (<see cref="Emulate"/> under
    /// <see cref="BackendKind.Dom0"/>).
    /// </summary>
    public void EventChannelNotify(VirtualCpu vcpu, HypervisorPath path, ulong address)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        ArgumentNullException.ThrowIfNull(path);
        EmulationWork work = Recorded(vcpu, Instruction.MmioWrite, address, 0, out _);
        Emulate(vcpu, path.ChargeTo(CycleCategory.DeviceEmulation), work, BackendKind.Dom0);
        path.ChargeTo(CycleCategory.Hypervisor);
    }

    /// <summary>The access done on the VM's devices with their work recorded (<see cref="EmulationWork"/>), for the monitor to run as code.</summary>
    private static EmulationWork Recorded(VirtualCpu vcpu, Instruction instruction, ulong address, ulong value, out ulong read)
    {
        EmulationWork work = vcpu.Vm.Devices.Emulation ?? throw new InvalidOperationException("A virtual machine's devices without their emulation record.");
        work.Begin();
        vcpu.Vm.DeviceAccess(vcpu.Core, instruction, address, value, out read);
        work.End();
        return work;
    }

    /// <summary>
    /// KVM's x86 emulator fetching the instruction of an MMIO exit, which VT-x does not decode
    /// (x86_decode_insn's fetch through kvm_fetch_guest_virt): the guest's linear address of the
    /// instruction (<paramref name="linear"/>, the line the guest last fetched) translated by a
    /// software walk of the guest's page tables (arch/x86/kvm/mmu/paging_tmpl.h,
    /// walk_addr_generic: each level's entry read through the host's map of guest memory), then
    /// the instruction's bytes read. Nothing when the guest fetched no code (0) or the walk finds
    /// an entry not present (the emulator would inject a page fault; the model's guests have none
    /// there). Returns whether it fetched.
    /// </summary>
    public static bool FetchGuestInstruction(VirtualCpu vcpu, HypervisorPath path, ulong linear) => ReadGuestLinear(vcpu, path, linear, out _);

    /// <summary>
    /// The monitor reads guest linear address <paramref name="linear"/> (the emulator's fetch, a
    /// binary translator's read of the guest's code, the callout of an adapted write): the
    /// software walk of the guest's page tables and the access, as <see cref="FetchGuestInstruction"/>
    /// describes; <paramref name="guestPhysical"/> is where it reached.
    /// </summary>
    public static bool ReadGuestLinear(VirtualCpu vcpu, HypervisorPath path, ulong linear, out ulong guestPhysical)
    {
        VirtualMachine vm = vcpu.Vm;
        guestPhysical = 0;
        if (linear == 0)
        {
            return false;
        }
        ulong table = vcpu.Core.Mmu.GuestPml4 & PageEntry.AddressMask;
        for (int level = 3; ; level--)
        {
            ulong entryAddress = table + ((ulong)PageEntry.Index(linear, level) * 8);
            if (entryAddress >= vm.Memory.SizeBytes)
            {
                return false;
            }
            vm.Structures.MemslotLookup(path).LoadWords(vm.HostAddress(entryAddress), 1); // kvm_vcpu_gfn_to_hva_prot: the entry's slot, then the entry
            ulong entry = vm.Memory.ReadUInt64(entryAddress);
            if ((entry & PageEntry.Present) == 0)
            {
                return false;
            }
            if (level == 0 || (level <= 2 && (entry & PageEntry.PageSize) != 0))
            {
                ulong offsetMask = (1UL << (PageEntry.SmallPageShift + (9 * level))) - 1;
                guestPhysical = (entry & PageEntry.AddressMask & ~offsetMask) + (linear & offsetMask);
                vm.Structures.MemslotLookup(path).LoadWords(vm.HostAddress(guestPhysical), 1);
                return true;
            }
            table = entry & PageEntry.AddressMask;
        }
    }

    /// <summary>Where in a virtual CPU's device-state page the device models keep their frame buffer (e1000's tx.data): its upper half, above the per-device state lines.</summary>
    private const ulong ModelBufferOffset = PhysicalMemory.FrameBytes / 2;

    /// <summary>
    /// One piece of a backend thread's work (<see cref="IoThread"/>) on its host CPU, in
    /// <paramref name="path"/>: the device's work run and recorded, then its code as an exit's
    /// emulation would be (<see cref="Emulate"/>, with the device state of the machine's first
    /// virtual CPU), a host I/O's completion when it is one, and each request it set going
    /// submitted to the host: a system call from a user-space thread, a bio from a vhost worker,
    /// and from dom0 a bio or a frame handed to its stack after the grant operation that reaches
    /// the guest's page (<see cref="GrantOperations"/>).
    /// </summary>
    public void RunBackendWork(IoThread thread, HypervisorPath path, bool completion, Action work)
    {
        ArgumentNullException.ThrowIfNull(thread);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(work);
        EmulationWork record = thread.Vm.Devices.Emulation ?? throw new InvalidOperationException("A virtual machine's devices without their emulation record.");
        record.Begin();
        work();
        record.End();
        if (completion)
        {
            path.Run(HypervisorRoutine.HostInterrupt).Run(HypervisorRoutine.HostIoCompletion);
        }
        Emulate(thread.Owner, path, record, thread.Kind);
        if (thread.Kind == BackendKind.Dom0)
        {
            GrantOperations(thread, path, record, completion);
        }
        for (int io = 0; io < record.RealIos; io++)
        {
            if (thread.Kind == BackendKind.UserSpace)
            {
                _hostIo.Increment();
                path.Run(HypervisorRoutine.HostIoSyscall);
            }
            else
            {
                path.Run(thread.Kind == BackendKind.Dom0 ? HypervisorRoutine.Dom0Io : HypervisorRoutine.VhostIo);
            }
        }
        Bridge(path, record.Frames);
    }

    /// <summary>
    /// dom0's grant operations for a piece of its work, each a hypercall to Xen that reads and
    /// updates the guest's grant-table entry: a frame crosses by a grant copy (netback's
    /// GNTTABOP_copy, both ways: xenvif_tx_build_gops and xenvif_rx_action's copies; one a frame,
    /// whatever its size: netback's map of a long frame's tail is not modelled); a block request's page is
    /// mapped (blkback's xen_blkbk_map, GNTTABOP_map_grant_ref) and, when the request is done,
    /// unmapped (xen_blkbk_unmap, GNTTABOP_unmap_grant_ref, with its TLB flush). A completion that
    /// brings no frame is a block request's. Model: blkback without persistent grants, the path
    /// whose cost persistent grants (feature-persistent) trade for a copy in the guest.
    /// </summary>
    private static void GrantOperations(IoThread thread, HypervisorPath path, EmulationWork record, bool completion)
    {
        for (int frame = 0; frame < record.Frames; frame++)
        {
            Grant(thread, path, HypervisorRoutine.GrantCopy);
        }
        for (int request = record.Frames; request < record.RealIos; request++)
        {
            Grant(thread, path, HypervisorRoutine.GrantMap);
        }
        if (completion && record.Frames == 0)
        {
            Grant(thread, path, HypervisorRoutine.GrantUnmap);
        }
        for (int i = 0; i < record.Irqfds; i++)
        {
            thread.SentEvent();
        }
    }

    /// <summary>A grant operation: its hypercall's code, and the guest's grant entry read and its flags written back (Xen's GTF_reading or GTF_writing set or cleared by cmpxchg).</summary>
    private static void Grant(IoThread thread, HypervisorPath path, HypervisorRoutine operation)
    {
        thread.Granted(operation);
        ulong entry = thread.Vm.HostAddress(thread.NextGrantEntry());
        path.Run(operation).LoadWords(entry, 1).StoreWords(entry, 1);
    }

    /// <summary>The host's bridge forwards <paramref name="frames"/> of a guest's between its backend and the physical port.</summary>
    private void Bridge(HypervisorPath path, int frames)
    {
        for (int frame = 0; frame < frames; frame++)
        {
            _bridged.Increment();
            path.Run(HypervisorRoutine.HostBridgeForward);
        }
    }

    /// <summary>The monitor process's host system calls for the real I/Os <paramref name="work"/> set going: one each, the frames' with the number whose path bridges them.</summary>
    private static void HostIo(HypervisorPath user, EmulationWork work)
    {
        for (int io = 0; io < work.RealIos; io++)
        {
            user.Execute(Instruction.Syscall, io < work.Frames ? HostFrameSyscall : HostIoSyscall);
        }
    }

    /// <summary>
    /// The work a device recorded for an access, as the model's code: each step's routine, a load
    /// or a store per line of guest memory it read or wrote (through the monitor's map of guest
    /// memory), and for a copy a load of each line and a store into the model's buffer (a frame of
    /// more than its 2 KiB wraps around in it). Where the code runs (<paramref name="where"/>) decides
    /// how a backend is woken and how the guest is interrupted: an eventfd and an irqfd in a KVM-like
    /// host (the irqfd's a write(2) around the injection from user space), an event channel each
    /// way under Xen (evtchn_send, from the guest's hypercall or dom0's).
    /// </summary>
    private void Emulate(VirtualCpu vcpu, HypervisorPath path, EmulationWork work, BackendKind where)
    {
        foreach (EmulationStep step in work.Steps)
        {
            _deviceSteps.Increment(step);
            path.Run(step switch
            {
                EmulationStep.InterruptCause => HypervisorRoutine.NicInterruptCause,
                EmulationStep.TransmitDescriptor => HypervisorRoutine.NicTransmitDescriptor,
                EmulationStep.CommandIssue => HypervisorRoutine.AhciCommandIssue,
                EmulationStep.VirtqueuePop => HypervisorRoutine.VirtqueuePop,
                EmulationStep.VirtqueuePush => HypervisorRoutine.VirtqueuePush,
                EmulationStep.AtaCommand => HypervisorRoutine.AtaCommand,
                EmulationStep.FrameReceive => HypervisorRoutine.NicFrameReceive,
                EmulationStep.CommandComplete => HypervisorRoutine.AhciCommandComplete,
                EmulationStep.TransmitContext => HypervisorRoutine.NicTransmitContext,
                EmulationStep.ChecksumLine => HypervisorRoutine.NicChecksumLine,
                _ => throw new InvalidOperationException($"No routine for {step}."),
            });
        }
        for (int i = 0; i < work.Ioeventfds; i++)
        {
            // The backend thread woken, as a vCPU thread is (try_to_wake_up), or dom0's virtual CPU (vcpu_wake) by the guest's event.
            path.Run(where == BackendKind.Dom0 ? HypervisorRoutine.EventChannelSend : HypervisorRoutine.IoeventfdSignal).Run(HypervisorRoutine.VcpuWake);
        }
        for (int i = 0; i < work.Irqfds; i++)
        {
            _ = where switch
            {
                BackendKind.Dom0 => path.Run(HypervisorRoutine.EventChannelSend), // blkback's and netback's notify_remote_via_irq: an event to the guest, not an irqfd
                BackendKind.UserSpace => path.Run(HypervisorRoutine.IrqfdWrite).Run(HypervisorRoutine.IrqfdInject),
                _ => path.Run(HypervisorRoutine.IrqfdInject),
            };
        }
        const ulong lineBytes = (ulong)CodeLayout<HypervisorRoutine>.LineBytes;
        ulong buffer = vcpu.DeviceState + ModelBufferOffset;
        foreach (GuestTouch touch in work.Touches)
        {
            ulong first = touch.Address & ~(lineBytes - 1);
            for (ulong line = first; line < touch.Address + (ulong)touch.Bytes; line += lineBytes)
            {
                ulong host = vcpu.Vm.HostAddress(line);
                _deviceLines.Increment();
                _ = touch.Kind switch
                {
                    GuestTouchKind.Write => path.StoreWords(host, 1),
                    GuestTouchKind.CopyOut => path.LoadWords(host, 1).StoreWords(buffer + ((line - first) % ModelBufferOffset), 1),
                    _ => path.LoadWords(host, 1),
                };
            }
        }
    }

    /// <summary>
    /// The host's side of an inflate buffer (<see cref="HypervisorRoutine.BalloonPage"/> per page):
    /// the frame numbers read from guest memory, each page's host frame freed and its EPT entry
    /// cleared (a page never touched has nothing to free), and once for the buffer, if anything was
    /// freed, every translation the VM's virtual CPUs may hold flushed (kvm_flush_remote_tlbs).
    /// </summary>
    private static void DiscardBalloonPages(VirtualMachine vm, HypervisorPath path)
    {
        bool freed = false;
        IReadOnlyList<ulong> pages = vm.Devices.Balloon!.TakeInflated();
        if (pages.Count == 0)
        {
            return; // an access that handed over no buffer (a configuration read, the deflate queue's kick)
        }
        path.ChargeTo(CycleCategory.DeviceEmulation);
        foreach (ulong gpa in pages)
        {
            path.Run(HypervisorRoutine.BalloonPage);
            if (vm.IsHugeMapped(gpa))
            {
                path.Run(HypervisorRoutine.HugePageSplit); // MADV_DONTNEED on part of the host's huge page splits it first
            }
            if (vm.Discard(gpa, out ulong? entry))
            {
                if (entry is { } cleared)
                {
                    path.StoreWords(cleared, 1);
                }
                freed = true;
            }
        }
        path.ChargeTo(CycleCategory.Hypervisor);
        if (freed)
        {
            foreach (Core core in vm.Cores)
            {
                core.Mmu.FlushGuest();
            }
        }
    }

    /// <summary>
    /// A page fault of a guest under shadow paging, as every monitor handles it: the guest's
    /// tables walked in software (each entry a load through the monitor's map of guest memory),
    /// then a hidden fault filled (and the guest's TLB entries flushed if that took a write right
    /// away), or the guest's write to its own page table decoded, done, and the shadow entries
    /// made from it cleared. A true fault is left to the caller to give to the guest.
    /// <paramref name="user"/> is the guest's privilege at the fault.
    /// </summary>
    public static ShadowFault ShadowPageFault(VirtualCpu vcpu, HypervisorPath path, PageFaultErrorCode code, ulong faultAddress, bool user)
    {
        Core core = vcpu.Core;
        ShadowPageTables shadow = vcpu.Shadow ?? throw new InvalidOperationException("A shadow page fault with no shadow page tables.");
        MemoryAccessKind kind = (code & PageFaultErrorCode.Write) != 0 ? MemoryAccessKind.Write
            : (code & PageFaultErrorCode.InstructionFetch) != 0 ? MemoryAccessKind.Fetch : MemoryAccessKind.Read;
        ShadowFault fault = shadow.Resolve(core.Mmu.GuestPml4, faultAddress, kind, user);
        path.Run(HypervisorRoutine.ShadowFill);
        ShadowTraffic(vcpu, path, fault.Work);
        if (fault.Kind == ShadowFaultKind.Fill)
        {
            FlushIfProtectionsChanged(vcpu);
        }
        else if (fault.Kind == ShadowFaultKind.PageTableWrite)
        {
            EmulatePageTableWrite(vcpu, path.Run(HypervisorRoutine.MmioDecode), fault.WrittenGuestPhysical); // the faulting instruction decoded first
        }
        return fault;
    }

    /// <summary>
    /// A guest's write to its page table at <paramref name="guestPhysical"/>, done by the monitor
    /// (the instruction already decoded, or known to a translation that calls out for it): the
    /// write, then the shadow entries made from the entry cleared.
    /// </summary>
    public static void EmulatePageTableWrite(VirtualCpu vcpu, HypervisorPath path, ulong guestPhysical)
    {
        path.Run(HypervisorRoutine.PageTableWriteEmulation).StoreWords(vcpu.Vm.HostAddress(guestPhysical), 1);
        var written = new ShadowWork();
        IReadOnlyList<ulong> cleared = vcpu.Shadow!.TableWritten(guestPhysical, written);
        ShadowTraffic(vcpu, path, written);
        foreach (ulong entry in cleared)
        {
            path.StoreWords(entry, 1);
        }
        if (cleared.Count > 0)
        {
            vcpu.Core.Mmu.FlushGuest(); // which linear addresses those entries served is not kept: all of the guest's translations go
        }
    }

    /// <summary>The guest's MOV to CR3 under shadow paging: its shadow root found in the cache (and the out-of-sync tables it reaches synced) or made (and zeroed), loaded for the guest.</summary>
    public static void ShadowCr3Load(VirtualCpu vcpu, HypervisorPath path, ulong guestCr3)
    {
        path.Run(HypervisorRoutine.Cr3Switch);
        var work = new ShadowWork();
        vcpu.Shadow!.RootFor(guestCr3, work);
        ShadowTraffic(vcpu, path, work);
        vcpu.Core.Mmu.LoadGuestCr3(guestCr3);
        FlushIfProtectionsChanged(vcpu);
    }

    /// <summary>The guest's INVLPG under shadow paging: the shadow leaf found (a load per level) and, in an out-of-sync table, rewritten from the guest's entry; the guest's TLB entry dropped.</summary>
    public static void ShadowInvlpg(VirtualCpu vcpu, HypervisorPath path, ulong linearAddress)
    {
        Core core = vcpu.Core;
        path.Run(HypervisorRoutine.InvlpgEmulation);
        var work = new ShadowWork();
        vcpu.Shadow!.Invalidate(core.Mmu.GuestPml4, linearAddress, work);
        ShadowTraffic(vcpu, path, work);
        core.Mmu.InvalidateGuestPage(linearAddress);
    }

    /// <summary>Shadow entries lost their write right: the guest's TLB entries may still hold it, so they go.</summary>
    public static void FlushIfProtectionsChanged(VirtualCpu vcpu)
    {
        if (vcpu.Shadow is { ProtectionsChanged: true } shadow)
        {
            shadow.ProtectionsChanged = false;
            vcpu.Core.Mmu.FlushGuest();
        }
    }

    /// <summary>
    /// The work of a shadow-MMU operation on the machine: the routines of the tables it let out of
    /// sync, synced and the entries it prefetched; the guest entries read (each through a memory-slot
    /// lookup), the shadow-page hash looked up, the shadow entries read, new shadow pages zeroed,
    /// shadow entries written.
    /// </summary>
    private static void ShadowTraffic(VirtualCpu vcpu, HypervisorPath path, ShadowWork work)
    {
        path.Run(HypervisorRoutine.ShadowUnsync, work.TablesUnsynced).Run(HypervisorRoutine.ShadowResyncTable, work.TablesResynced)
            .Run(HypervisorRoutine.ShadowResyncEntry, work.EntriesResynced).Run(HypervisorRoutine.ShadowPrefetchEntry, work.EntriesPrefetched);
        MonitorStructures structures = vcpu.Vm.Structures;
        foreach (ulong gpa in work.GuestEntriesRead)
        {
            structures.MemslotLookup(path).LoadWords(vcpu.Vm.HostAddress(gpa), 1); // each guest entry read through its slot's host address (kvm_vcpu_gfn_to_hva_prot)
        }
        foreach ((ulong gfn, ulong[] pages) in work.HashLookups)
        {
            structures.ShadowHashLookup(path, gfn, pages);
        }
        foreach (ulong entry in work.ShadowEntriesRead)
        {
            path.LoadWords(entry, 1);
        }
        foreach (ulong page in work.ShadowPagesMade)
        {
            ZeroPage(path, page);
        }
        foreach (ulong entry in work.ShadowEntriesWritten)
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
          (virtioInKernel && PlatformDevices.IsVirtio(address)));

    /// <summary>
    /// A hosted monitor's device access. The monitor's own part emulates the register on its
    /// device model, in <paramref name="path"/> (already holding the exit's entry and decode), as
    /// VMware's hosted monitor handles the accesses that need nothing of the host (Sugerman et
    /// al., USENIX 2001: the Lance's status register without a world switch, its transmits with
    /// one). Only when the access set real I/O going does the trip through the host follow, once:
    /// the world switch out to the host (the monitor's state saved, CR3, the descriptor tables and
    /// SYSCALL MSRs reloaded), the return from the monitor driver's ioctl to the monitor process,
    /// its dispatch, one host system call for each real I/O (a frame sent, a block request
    /// submitted), and the next ioctl's entry and the world switch back, which begin the new
    /// <paramref name="path"/>. Returns the trip, or null when the access stayed in the monitor.
    /// </summary>
    public HostRoundTrip? ThroughHost(VirtualCpu vcpu, ref HypervisorPath path, ulong cr3, Instruction instruction, ulong address, ulong value, out ulong? read)
    {
        ArgumentNullException.ThrowIfNull(path);
        read = DeviceModel(vcpu, path, instruction, address, value);
        int realIos = vcpu.Vm.Devices.Emulation!.RealIos;
        if (realIos == 0)
        {
            return null;
        }
        _hostTrips.Increment();
        HypervisorPath kernelSide = path;
        WorldSwitch(vcpu, kernelSide.ChargeTo(CycleCategory.WorldSwitch), cr3, save: true).Run(HypervisorRoutine.HostIoctl).Execute(Instruction.Sysret);
        HypervisorPath user = new HypervisorPath(_text, _costs, HostProcessBase).ChargeTo(CycleCategory.DeviceEmulation).Run(HypervisorRoutine.UserDeviceDispatch);
        HostIo(user, vcpu.Vm.Devices.Emulation!);
        path = WorldSwitch(vcpu, NewPath().ChargeTo(CycleCategory.WorldSwitch).Run(HypervisorRoutine.HostIoctl), cr3, save: false).ChargeTo(CycleCategory.Hypervisor);
        return new HostRoundTrip(kernelSide.ToStream(), user.ToStream());
    }

    /// <summary>
    /// Whether a KVM-like hypervisor leaves the device access at <paramref name="address"/> to
    /// its user-space device model: every port and MMIO device but those KVM keeps in the kernel,
    /// the local and I/O APICs (its in-kernel irqchip), and a virtio queue's notify register when
    /// the device has a backend thread (the kick matches an ioeventfd in kvm_io_bus_write and
    /// never leaves the kernel). QEMU's e1000, AHCI, serial port and the rest of a virtio-mmio
    /// device's registers are in user space (accel/kvm/kvm-all.c, kvm_cpu_exec).
    /// </summary>
    public static bool InUserSpace(VirtualMachine vm, Instruction instruction, ulong address)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (instruction is Instruction.In or Instruction.Out)
        {
            return true;
        }
        if (PlatformDevices.IsLocalApic(address) || (address >= Devices.IoApic.DefaultBase && address < Devices.IoApic.DefaultBase + Devices.IoApic.Size))
        {
            return false;
        }
        VirtioMmioDevice? virtio = DeviceOf(instruction, address) switch
        {
            EmulatedDevice.Virtio => vm.Devices.Virtio,
            EmulatedDevice.VirtioNet => vm.Devices.VirtioNet,
            _ => null,
        };
        return !(virtio?.Backend is not null && (address & (VirtioMmioDevice.Size - 1)) == VirtioMmioDevice.QueueNotify);
    }

    /// <summary>
    /// A KVM-like hypervisor's device access that its user-space model handles
    /// (<see cref="InUserSpace"/>): the exit's handler (<paramref name="path"/>, already holding
    /// the exit's entry and decode) fills kvm_run and returns from the KVM_RUN ioctl: vcpu_put,
    /// the guest's FPU state saved and the thread's loaded (kvm_put_guest_fpu), and on the way
    /// to user space the MSRs KVM left with the guest's values restored (kvm_on_user_return),
    /// then SYSRET. The vCPU thread in QEMU (kvm_cpu_exec) dispatches the access to the device
    /// model, which does its work there, one host system call for each real I/O (the tap's
    /// write, the image's io_submit) and raises the guest's interrupt through KVM; the next
    /// KVM_RUN's entry (vcpu_load, the guest's FPU and MSRs loaded, complete_userspace_io
    /// finishing the instruction) begins the new <paramref name="path"/>, which resumes the
    /// guest. Every access goes this way, whether or not it sets real I/O going.
    /// </summary>
    public HostRoundTrip ToUserSpace(VirtualCpu vcpu, ref HypervisorPath path, Instruction instruction, ulong address, ulong value, out ulong? read)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        ArgumentNullException.ThrowIfNull(path);
        _userExits.Increment();
        HypervisorPath kernelSide = path.ChargeTo(CycleCategory.Hypervisor).Run(HypervisorRoutine.HostIoctl);
        SwapFpu(vcpu, kernelSide, save: true);
        UserReturnMsrs(kernelSide).Execute(Instruction.Sysret);
        HypervisorPath user = new HypervisorPath(_text, _costs, HostProcessBase).ChargeTo(CycleCategory.DeviceEmulation).Run(HypervisorRoutine.UserDeviceDispatch);
        read = DeviceModel(vcpu, user, instruction, address, value, BackendKind.UserSpace);
        HostIo(user, vcpu.Vm.Devices.Emulation!);
        path = NewPath().ChargeTo(CycleCategory.Hypervisor).Run(HypervisorRoutine.HostIoctl);
        UserReturnMsrs(path);
        SwapFpu(vcpu, path, save: false);
        return new HostRoundTrip(kernelSide.ToStream(), user.ToStream());
    }

    /// <summary>Bytes of the x87 and SSE state XSAVE writes: the 512-byte legacy region and the 64-byte header (Intel SDM Vol. 1, 13.4); the AVX state's 256 bytes more are left out.</summary>
    private const int FpuStateBytes = 576;

    /// <summary>The FPU state swapped at the KVM_RUN boundary (XSAVES of one, XRSTORS of the other: fpu_swap_kvm_fpstate), as stores and loads; the guest's state is kept in the virtual CPU's world-switch frame (unused by a KVM-like hypervisor), the vCPU thread's own half a frame above.</summary>
    private static void SwapFpu(VirtualCpu vcpu, HypervisorPath path, bool save)
    {
        const int words = FpuStateBytes / 8;
        ulong guest = vcpu.WorldState, thread = vcpu.WorldState + (PhysicalMemory.FrameBytes / 2);
        _ = save ? path.StoreWords(guest, words).LoadWords(thread, words) : path.StoreWords(thread, words).LoadWords(guest, words);
    }

    /// <summary>
    /// The MSRs VMX leaves with the guest's values while in the kernel and swaps at the boundary
    /// with user space: TSC_AUX, STAR, LSTAR and SYSCALL_MASK (arch/x86/kvm/vmx/vmx.c,
    /// vmx_uret_msrs_list; EFER goes through the VMCS), each a WRMSR one way and the other
    /// (kvm_set_user_return_msr, kvm_on_user_return).
    /// </summary>
    private static HypervisorPath UserReturnMsrs(HypervisorPath path)
    {
        for (int msr = 0; msr < 4; msr++)
        {
            path.Execute(Instruction.Wrmsr);
        }
        return path;
    }

    /// <summary>The host kernel's path for the monitor process's system call: its real I/O.</summary>
    public OpSequence HostSyscall(ulong number)
    {
        if (number is not (HostIoSyscall or HostFrameSyscall))
        {
            throw new InvalidOperationException($"The monitor process makes no system call {number}.");
        }
        _hostIo.Increment();
        HypervisorPath path = NewPath().ChargeTo(CycleCategory.DeviceEmulation).Run(HypervisorRoutine.HostIoSyscall);
        Bridge(path, number == HostFrameSyscall ? 1 : 0);
        return path.Execute(Instruction.Sysret).ToStream();
    }

    /// <summary>One direction of a world switch: the state saved (or reloaded), CR3, GDT, IDT, LDT, TR and the three SYSCALL MSRs loaded.</summary>
    private static HypervisorPath WorldSwitch(VirtualCpu vcpu, HypervisorPath path, ulong cr3, bool save)
    {
        path.Run(HypervisorRoutine.WorldSwitch);
        _ = save ? path.StoreWords(vcpu.WorldState, WorldStateWords) : path.LoadWords(vcpu.WorldState, WorldStateWords);
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
        _ when address >= PlatformDevices.VirtioBase && address < PlatformDevices.VirtioBase + Devices.VirtioMmioDevice.Size => EmulatedDevice.Virtio,
        _ when address >= PlatformDevices.VirtioNetBase && address < PlatformDevices.VirtioNetBase + Devices.VirtioMmioDevice.Size => EmulatedDevice.VirtioNet,
        _ when address >= PlatformDevices.BalloonBase && address < PlatformDevices.BalloonBase + Devices.VirtioMmioDevice.Size => EmulatedDevice.Balloon,
        _ => EmulatedDevice.Nic,
    };
}
