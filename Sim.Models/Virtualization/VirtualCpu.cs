using Sim.Models.Cpu;
using Sim.Models.Paging;

namespace Sim.Models.Virtualization;

/// <summary>Where a virtual CPU (or a host process) stands with its hypervisor's scheduler.</summary>
internal enum VcpuState
{
    /// <summary>Running on its physical core, or ready to.</summary>
    Runnable,

    /// <summary>Halted by its guest (HLT) with no virtual interrupt to wake it.</summary>
    Blocked,

    /// <summary>Its guest has nothing more to run.</summary>
    PoweredOff,
}

/// <summary>
/// One virtual CPU as its monitor keeps it: its virtual machine and its number there, the
/// physical core it is placed on and its context there (<see cref="Core"/>), its translation state in the core's MMU, its
/// shadow page tables when it has them, the virtual interrupts waiting for it, and the memory of
/// its structure (saved registers), its device models' state and its world-switch area.
/// </summary>
internal sealed class VirtualCpu(VirtualMachine vm, int index, int physical, ulong registers, ulong deviceState, ulong worldState) : SchedulingEntity(physical)
{
    public VirtualMachine Vm { get; } = vm;

    /// <summary>Its number in its virtual machine (its guest's CPU number and virtual APIC ID).</summary>
    public int Index { get; } = index;

    /// <summary>The context the virtual CPU runs in: its physical core's own, or one added to it.</summary>
    public override Core Core => Vm.Cores[Index];

    /// <summary>Its saved general-purpose registers and state.</summary>
    public ulong Registers { get; } = registers;

    /// <summary>One line of state per device model.</summary>
    public ulong DeviceState { get; } = deviceState;

    /// <summary>The processor state a hosted monitor's world switch saves.</summary>
    public ulong WorldState { get; } = worldState;

    public ShadowPageTables? Shadow { get; set; }

    /// <summary>Its translation state in the MMU of the physical core it is on.</summary>
    public Mmu.GuestTranslation? Translation { get; set; }

    private Mmu.GuestTranslation?[]? _translations; // by physical core: its translation state in each MMU it has been on

    /// <summary>
    /// Moved by the load balancer to <paramref name="physical"/>, while it waits for a core: its
    /// context goes to that core's MMU and caches, and its translation state with it
    /// (<see cref="Mmu.Adopt"/>). Until it next runs, <see cref="Migrated"/> is set, so that its
    /// switch path does what a migration adds.
    /// </summary>
    public void Migrate(Platform.Machine machine, int physical)
    {
        _translations ??= new Mmu.GuestTranslation?[machine.Cores.Count];
        _translations[Physical] = Translation;
        Mmu.GuestTranslation here = machine.MmuOf(physical).Adopt(Translation!, _translations[physical]);
        machine.MoveContext(Core, physical, here);
        (Translation, Physical, Migrated) = (here, physical, true);
    }

    /// <summary>Moved to another physical core since it last ran there: its next switch in pays the migration's steps.</summary>
    public bool Migrated { get; set; }

    /// <summary>Virtual interrupts waiting to be delivered, by vector.</summary>
    public SortedSet<int> Pending { get; } = [];

    /// <summary>
    /// Whether a virtual interrupt is pending that the guest's task priority lets through: its
    /// priority class (vector bits 7:4) above the TPR's (the virtual APIC's PPR test, SDM 3A
    /// 11.8.3.1; the ISR's part of the PPR is not modelled).
    /// </summary>
    public bool HasPendingInterrupt => PendingClass > Core.TaskPriority;

    /// <summary>The priority class of the highest pending virtual interrupt if the guest's task priority masks it, otherwise 0: the TPR threshold a hypervisor sets.</summary>
    public ulong MaskedPriority => PendingClass is var c and > 0 && c <= Core.TaskPriority ? c : 0;

    /// <summary>The priority class (vector bits 7:4) of the highest pending virtual interrupt; 0 with none (vectors below 16 are not interrupts).</summary>
    private ulong PendingClass => Pending.Count > 0 ? (ulong)(Pending.Max >> 4) : 0;

    /// <summary>Halted with its interrupts off (a paravirtual spinlock's wait): a virtual interrupt stays pending and does not wake it; only a kick does.</summary>
    public bool HaltedWithInterruptsOff { get; set; }

    /// <summary>Whether it has something to wake it from HLT: a kick, or a virtual interrupt it can take; or, blocked in a fault on a page in the host's swap, the page's arrival (nothing else wakes it then).</summary>
    public bool HasWakeEvent => !AwaitingHostPage && (HostPageReady || Unhalted || (HasPendingInterrupt && !HaltedWithInterruptsOff));

    /// <summary>Blocked in the host's fault on a page in its swap, or on free memory for a page (<see cref="HostSwap"/>): no virtual interrupt or kick wakes it, only the read's end or a write's.</summary>
    public bool AwaitingHostPage { get; set; }

    /// <summary>What it waited for in the host came: it runs again, and its faulting instruction with it.</summary>
    public bool HostPageReady { get; set; }

    /// <summary>The EPT entry the host's read mapped for it, whose store its wake-up path makes; null when it waited for free memory.</summary>
    public ulong? MappedEntry { get; set; }

    /// <summary>Kicked by a KVM_HC_KICK_CPU hypercall (KVM's pv_unhalted): its next HLT, or the one it is blocked in, ends without an interrupt.</summary>
    public bool Unhalted { get; set; }

    /// <summary>Scheduled onto its core since it last entered its guest: its steal-time area is brought up to date at the next entry (KVM's KVM_REQ_STEAL_UPDATE, made by kvm_arch_vcpu_load).</summary>
    public bool StealUpdate { get; set; }
}
