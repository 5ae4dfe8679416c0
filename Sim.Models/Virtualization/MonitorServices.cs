using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
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

    private readonly HypervisorCosts _costs;
    private readonly CodeLayout<HypervisorRoutine> _text;
    private readonly ulong _linearBase;
    private readonly ulong _vcpu;         // the virtual CPU's structure: saved registers and state
    private readonly ulong _deviceState;  // one line of state per device model
    private readonly SortedSet<int> _pending = [];
    private readonly Counter _injected;
    private readonly Counter _kicks;
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
        _injected = stats.Counter("injected_interrupts", "count", "virtual interrupts delivered to the guest (injected on VM entry or reflected)");
        _kicks = stats.Counter("kicks", "count", "physical interrupts sent to a core to make it attend to a virtual interrupt");
    }

    public Machine Machine { get; }

    public VirtualMachine Vm => _vm ?? throw new InvalidOperationException("The monitor has created no virtual machine yet.");

    public ShadowPageTables? Shadow { get; private set; }

    public bool HasPendingInterrupt => _pending.Count > 0;

    /// <summary>Creates the virtual machine on core 0, with shadow page tables unless it has an EPT.</summary>
    public VirtualMachine CreateVm(MachineConfiguration configuration, bool nestedPaging, bool largeEptPages, int shadowCacheRoots,
        Action<ulong>? prepareShadowRoot, bool guestKernelAtUserLevel, Action<int> onVirtualInterrupt)
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
        });
        if (!nestedPaging)
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
        ulong state = _deviceState + (DeviceLine(instruction, address) * (ulong)CodeLayout<HypervisorRoutine>.LineBytes);
        path.ChargeTo(CycleCategory.DeviceEmulation)
            .Run(HypervisorRoutine.DeviceModel)
            .LoadWords(state, 1)
            .StoreWords(state, 1)
            .ChargeTo(CycleCategory.Hypervisor);
        Vm.DeviceAccess(Vm.BootCore, instruction, address, value, out ulong read);
        return instruction is Instruction.In or Instruction.MmioRead ? read : null;
    }

    /// <summary>The memory traffic of resolving a shadow page fault: the guest entries read, new shadow pages zeroed, shadow entries written.</summary>
    public void ShadowTraffic(HypervisorPath path, ShadowFault fault)
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

    /// <summary>Which line of device-model state an access touches: one per device.</summary>
    private static ulong DeviceLine(Instruction instruction, ulong address) => instruction switch
    {
        Instruction.In or Instruction.Out => 0,
        _ when PlatformDevices.IsLocalApic(address) => 1,
        _ when address >= Devices.IoApic.DefaultBase && address < Devices.IoApic.DefaultBase + Devices.IoApic.Size => 2,
        _ when address >= PlatformDevices.AhciBase && address < PlatformDevices.AhciBase + Devices.AhciDisk.Size => 3,
        _ => 4,
    };
}
