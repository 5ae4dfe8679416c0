using Sim.Engine;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Platform;

/// <summary>
/// What a kernel sees of the computer it boots on: its physical memory, its devices and the CPU
/// it starts on. A physical <see cref="Machine"/> is one; a <see cref="Virtualization.VirtualMachine"/>
/// is another, whose memory is guest-physical and whose devices are a hypervisor's models. The
/// kernel is the same on both: that is what makes a guest unmodified.
/// </summary>
public interface IPlatform
{
    Simulator Sim { get; }

    HardwareProfile Profile { get; }

    /// <summary>The statistics prefix of the platform's components: host, vm0.</summary>
    string Name { get; }

    /// <summary>The memory the kernel manages: host-physical on a machine, guest-physical in a VM.</summary>
    PhysicalMemory Memory { get; }

    PlatformDevices Devices { get; }

    /// <summary>
    /// The 64-bit word at <paramref name="physicalAddress"/> of <see cref="Memory"/> as the CPUs'
    /// loads and locked operations left it (a futex word, an acknowledgement count). The cores
    /// work on host-physical addresses, so in a VM it is read where the guest-physical address is
    /// backed; the kernel's own structures (page tables) are kept in <see cref="Memory"/>.
    /// </summary>
    ulong ReadWord(ulong physicalAddress);

    /// <summary>Writes a word where the CPUs will see it (<see cref="ReadWord"/>): put_user of a value a program reads with its locked operations.</summary>
    void WriteWord(ulong physicalAddress, ulong value);

    /// <summary>The core the kernel's first CPU runs on (in a VM, the context of its first virtual CPU).</summary>
    Core BootCore { get; }

    /// <summary>The kernel's CPUs: the machine's logical CPUs, or a VM's virtual CPUs' contexts.</summary>
    IReadOnlyList<Core> Cores { get; }

    /// <summary>The NUMA node (socket) of CPU <paramref name="cpu"/>.</summary>
    int SocketOfCpu(int cpu);

    /// <summary>A register access by the kernel's CPU: what the kernel's <see cref="ICoreHost.OnDeviceAccess"/> calls.</summary>
    int DeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue);

    /// <summary>The paravirtual features the platform offers its kernel: none on a physical machine.</summary>
    ParavirtFeatures Paravirt { get; }

    /// <summary>
    /// CPU <paramref name="cpu"/>'s WRMSR of MSR_KVM_STEAL_TIME at boot (kvm_register_steal_time,
    /// not timed): its struct kvm_steal_time is at <paramref name="physicalAddress"/>, 64-byte
    /// aligned. Only on a platform that offers <see cref="ParavirtFeatures.StealTime"/>.
    /// </summary>
    void RegisterStealTime(int cpu, ulong physicalAddress);

    /// <summary>A fresh address space (a PML4 and the tables it grows) in this platform's memory, its tables from the NUMA node <paramref name="node"/> names when each is made (node 0 by default).</summary>
    AddressSpaceBuilder NewAddressSpace(Func<int>? node = null);
}
