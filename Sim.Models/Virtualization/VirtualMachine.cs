using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// A virtual machine as its guest kernel sees it: guest-physical memory, the devices of a PC (the
/// hypervisor's device models, <see cref="PlatformDevices"/> built as emulated, with a local
/// APIC per virtual CPU), and its virtual CPUs, each placed on a physical core. The guest's memory is backed by a contiguous run of host
/// memory, mapped by the VM's <see cref="Ept"/> under nested paging. Components are named vmN.*.
/// </summary>
/// <remarks>
/// Model: the contents of guest memory live in the VM's own store, indexed by guest-physical
/// address, while every reference to it goes through the caches at the host-physical address
/// that backs it: the host frames are allocated and addressed, not copied. The whole of guest
/// memory is mapped before the guest starts (as a hypervisor that preallocates guest memory
/// does), so a running guest meets no EPT violations on its own memory. A paravirtual guest
/// (direct paging) has no guest-physical space of its own: it allocates machine memory (the
/// whole machine beyond the hypervisor's, as a single domain would) and its tables hold machine
/// addresses. A VM is one NUMA node to its guest (no virtual NUMA topology), whatever host
/// nodes its virtual CPUs run on; its memory lies on the node of its first virtual CPU's core.
/// </remarks>
public sealed class VirtualMachine : IPlatform
{
    private readonly ulong?[] _stealTime; // each virtual CPU's registered struct kvm_steal_time, guest-physical

    /// <param name="cores">The contexts its virtual CPUs run in, one per CPU of <paramref name="configuration"/> (each may be a context that time-shares its physical core).</param>
    /// <param name="physicalCore">The host's logical CPU the first virtual CPU runs on: the VM's memory is on its node.</param>
    /// <param name="deliver">Delivers an interrupt vector to the virtual CPU of the given index.</param>
    internal VirtualMachine(Machine host, int index, MachineConfiguration configuration, IReadOnlyList<Core> cores, int physicalCore, bool nestedPaging, bool largeEptPages,
        Action<int, int> deliver, bool directPaging = false, bool assignedDevices = false)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(cores);
        ArgumentNullException.ThrowIfNull(deliver);
        configuration.Validate();
        if (configuration.ThreadsPerCore != 1 || cores.Count != configuration.Cores)
        {
            throw new ArgumentException($"A virtual machine has one context per virtual CPU and no virtual SMT: {configuration.Cores} virtual CPUs, {cores.Count} contexts.", nameof(configuration));
        }
        Host = host;
        Index = index;
        Name = $"vm{index}";
        Cores = [.. cores];
        _stealTime = new ulong?[cores.Count];
        if (directPaging)
        {
            // A paravirtual guest works with machine frames: its page tables hold host-physical
            // addresses and the hardware walks them. It allocates from the machine's memory.
            Memory = host.Memory;
            HostBase = 0;
        }
        else
        {
            Memory = new PhysicalMemory(configuration.MemoryBytes);
            // Contiguous, and on the NUMA node of the physical core the virtual CPU runs on, where
            // its thread touches the memory first (or the next node with room).
            HostBase = host.Memory.AllocateLargeFrames(host.SocketOfCpu(physicalCore), PhysicalMemory.LargeFramesFor(configuration.MemoryBytes));
        }
        if (nestedPaging)
        {
            Ept = new Ept(host.Memory);
            Ept.Map(0, HostBase, configuration.MemoryBytes, largeEptPages);
        }
        Devices = new PlatformDevices(host.Sim, Name, Name + ".vcpu", host.Profile, configuration, Memory, cpu => vector => deliver(cpu, vector), emulated: true,
            assignedDevices);
        if (assignedDevices)
        {
            // One IOMMU domain for the VM: the assigned disk adapter's and NIC function's DMA share its IOTLB.
            Tick dram = host.Profile.Clock().EdgeTick(new Cycles((ulong)host.Profile.DramLatencyCycles)); // one memory reference
            var iommu = new Iommu(dram, host.Sim.Stats.Group(Name + ".iommu"));
            if (configuration.Disk != DiskKind.None)
            {
                AhciDisk disk = Devices.Ahci ?? throw new ArgumentException("Only a disk on the AHCI interface can be assigned to a virtual machine here.", nameof(configuration));
                disk.DmaTranslation = iommu.Translate;
            }
            if (Devices.Nic is { } nic)
            {
                nic.DmaTranslation = iommu.Translate;
            }
        }
    }

    /// <summary>The physical machine the VM runs on.</summary>
    public Machine Host { get; }

    public Simulator Sim => Host.Sim;

    public HardwareProfile Profile => Host.Profile;

    public string Name { get; }

    /// <summary>The VM's number on its host, in order of creation (named vmN).</summary>
    public int Index { get; }

    /// <summary>Guest-physical memory.</summary>
    public PhysicalMemory Memory { get; }

    /// <summary>The host-physical address where guest-physical address 0 is backed.</summary>
    public ulong HostBase { get; }

    /// <summary>The VM's extended page tables, under nested paging; null otherwise.</summary>
    public Ept? Ept { get; }

    public PlatformDevices Devices { get; }

    /// <summary>The contexts of the virtual CPUs, in order: the guest kernel's CPUs.</summary>
    public IReadOnlyList<Core> Cores { get; }

    /// <summary>The context of the first virtual CPU.</summary>
    public Core BootCore => Cores[0];

    /// <summary>Every virtual CPU is on the VM's one node.</summary>
    public int SocketOfCpu(int cpu) => 0;

    /// <summary>The device models' side of an access by the virtual CPU of <paramref name="core"/> (reached only through the hypervisor's exit handlers when I/O is emulated): its own local APIC, or the shared devices.</summary>
    public int DeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
        Devices.Access(CpuOf(core), instruction, address, value, out readValue);

    /// <summary>The index of the virtual CPU that runs in <paramref name="core"/>.</summary>
    public int CpuOf(Core core)
    {
        for (int i = 0; i < Cores.Count; i++)
        {
            if (Cores[i] == core)
            {
                return i;
            }
        }
        throw new ArgumentException($"{core?.Path} is not a virtual CPU of {Name}.", nameof(core));
    }

    /// <summary>What the hypervisor offers the guest (set when the VM is created).</summary>
    public ParavirtFeatures Paravirt { get; internal set; }

    public void RegisterStealTime(int cpu, ulong physicalAddress)
    {
        if ((Paravirt & ParavirtFeatures.StealTime) == 0)
        {
            throw new InvalidOperationException($"{Name}'s hypervisor offers no steal time (KVM_FEATURE_STEAL_TIME).");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, Cores.Count);
        if (physicalAddress % KvmStealTime.Bytes != 0 || physicalAddress + KvmStealTime.Bytes > Memory.SizeBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(physicalAddress), $"A steal-time area is {KvmStealTime.Bytes} bytes, aligned to its size, in guest memory (got 0x{physicalAddress:X}).");
        }
        _stealTime[cpu] = physicalAddress;
    }

    /// <summary>The guest-physical address of virtual CPU <paramref name="cpu"/>'s steal-time area, once it has registered one.</summary>
    internal ulong? StealTimeOf(int cpu) => _stealTime[cpu];

    public AddressSpaceBuilder NewAddressSpace(Func<int>? node = null) => new(Memory, node);

    public ulong ReadWord(ulong physicalAddress) => Host.Memory.ReadUInt64(HostBase + physicalAddress);

    public void WriteWord(ulong physicalAddress, ulong value) => Host.Memory.WriteUInt64(HostBase + physicalAddress, value);
}
