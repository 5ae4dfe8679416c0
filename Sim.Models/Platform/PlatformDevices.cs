using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Memory;

namespace Sim.Models.Platform;

/// <summary>
/// The devices of a PC and the addresses where a kernel finds them: the device bus with COM1 at
/// 0x3F8 and the POST port, a local APIC per CPU at 0xFEE00000, the I/O APIC at 0xFEC00000, the
/// disk (on an AHCI adapter or the primary ATA channel) and the NIC with its link and peer. A
/// physical <see cref="Machine"/> has one set, whose register accesses cost the bus's and devices'
/// latencies; a <see cref="Virtualization.VirtualMachine"/> has another, the hypervisor's device
/// models, with the same register semantics and no access latency of their own (what an access
/// costs there is the VM exit and the handler that emulates it).
/// </summary>
public sealed class PlatformDevices
{
    /// <summary>The I/O APIC pin of the primary ATA channel (IRQ 14, as on PC platforms).</summary>
    public const int DiskIrq = 14;

    /// <summary>The I/O APIC pin of the AHCI adapter (a PCI INTx line, level-triggered).</summary>
    public const int AhciIrq = 19;

    /// <summary>Where the AHCI adapter's registers are mapped (its ABAR, PCI BAR5).</summary>
    public const ulong AhciBase = 0xFEBF_0000;

    /// <summary>Where the NVMe controller's registers are mapped (its BAR0: the controller registers, then the doorbells at 0x1000).</summary>
    public const ulong NvmeBase = 0xFEBE_0000;

    /// <summary>The I/O APIC pin of the virtio block device (level-triggered until InterruptACK).</summary>
    public const int VirtioIrq = 20;

    /// <summary>Where the virtio block device's registers are mapped (virtio-mmio).</summary>
    public const ulong VirtioBase = 0xFEB0_0000;

    /// <summary>The I/O APIC pin of the virtio network card (level-triggered until InterruptACK).</summary>
    public const int VirtioNetIrq = 21;

    /// <summary>Where the virtio network card's registers are mapped (virtio-mmio).</summary>
    public const ulong VirtioNetBase = 0xFEB0_1000;

    /// <summary>The I/O APIC pin of the memory balloon (level-triggered until InterruptACK).</summary>
    public const int BalloonIrq = 22;

    /// <summary>Where the memory balloon's registers are mapped (virtio-mmio).</summary>
    public const ulong BalloonBase = 0xFEB0_2000;

    /// <summary>The I/O APIC pin of the NIC (edge-triggered, as message-signalled interrupts behave).</summary>
    public const int NicIrq = 11;

    /// <summary>Where the NIC's registers are mapped (its memory BAR).</summary>
    public const ulong NicBase = 0xFEBC_0000;

    private readonly LocalApic[] _apics;

    /// <param name="sim">The simulation.</param>
    /// <param name="prefix">The statistics prefix of the platform: host, vm0.</param>
    /// <param name="cpuPrefix">The prefix of each CPU's name: host.cpu, vm0.vcpu.</param>
    /// <param name="profile">The CPU generation (its clock turns device latencies into cycles).</param>
    /// <param name="configuration">Which devices exist, and the platform's latencies.</param>
    /// <param name="memory">The physical memory the devices' DMA reads and writes (guest-physical for a VM).</param>
    /// <param name="deliver">For CPU i, what delivers an interrupt vector to it.</param>
    /// <param name="emulated">Device models of a hypervisor: register accesses cost no device latency.</param>
    /// <param name="assignedDevices">The disk's adapter and the NIC are real devices assigned to the VM (passthrough; the NIC a virtual function): their registers cost what the hardware's do.</param>
    /// <param name="host">For a virtual machine, the host's physical disk and port its devices reach (<see cref="HostDevices"/>): its disk is an image on the host's disk and its NIC's frames go out through the host's port (an assigned disk is a device of its own; an assigned NIC is a virtual function of the host's port); null for devices of their own.</param>
    /// <param name="vm">The virtual machine's index, which places its image on the host's disk.</param>
    public PlatformDevices(Simulator sim, string prefix, string cpuPrefix, HardwareProfile profile, MachineConfiguration configuration,
        PhysicalMemory memory, Func<int, Action<int>> deliver, bool emulated, bool assignedDevices = false, HostDevices? host = null, int vm = 0)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(deliver);
        PlatformTimings t = configuration.Timings;
        int Cycles(double nanoseconds) => emulated ? 0 : HardwareProfile.CyclesIn(nanoseconds, profile.FrequencyHz);
        int legacyCycles = Cycles(t.LegacyIoNanoseconds);
        Bus = new DeviceBus(sim.Stats.Group(prefix + ".bus"), legacyCycles);
        Com1 = new Uart8250(sim, prefix + ".com1", 0x3F8, legacyCycles, raiseInterrupt: null);
        Bus.MapPorts(0x3F8, 0x3FF, Com1);
        Bus.MapPorts(PostPort.Port, PostPort.Port, new PostPort(legacyCycles));

        int apicCycles = Cycles(t.LocalApicAccessNanoseconds);
        _apics = new LocalApic[configuration.LogicalCpus]; // one per logical CPU
        for (int i = 0; i < _apics.Length; i++)
        {
            _apics[i] = new LocalApic(sim, $"{cpuPrefix}{i}.apic", (uint)i, t.ApicTimerHz, apicCycles, deliver(i));
        }
        IoApic = new IoApic(sim.Stats.Group(prefix + ".ioapic"), prefix + ".ioapic", apicCycles, id => id < _apics.Length ? _apics[id] : null);
        Bus.MapMmio(IoApic.DefaultBase, IoApic.Size, IoApic);
        Tick ipiDelivery = emulated ? Tick.Zero : new Tick((ulong)Math.Round(t.IpiDeliveryNanoseconds * 1000));
        foreach (LocalApic apic in _apics)
        {
            apic.EoiBroadcast = IoApic.EndOfInterrupt;
            apic.InterprocessorInterrupt = (from, low, high) => SendInterprocessor(sim, from, low, high, ipiDelivery);
        }
        if (configuration.Disk != DiskKind.None)
        {
            DiskImage medium = host?.Disk is not null && !assignedDevices
                ? host.ImageOf(vm)
                : DiskImage.Whole(sim, MediumOf(sim, configuration.Disk, configuration.DiskSectors, prefix + ".disk0.medium"), sim.Stats.Group(prefix + ".disk0.medium"));
            if (configuration.DiskInterface == DiskInterface.Virtio)
            {
                if (!emulated)
                {
                    throw new ArgumentException("A virtio disk is a virtual machine's: a physical machine has none.", nameof(configuration));
                }
                Virtio = new VirtioBlock(sim, prefix + ".disk0", memory, medium, 0, () => IoApic.Assert(VirtioIrq), () => IoApic.Deassert(VirtioIrq), configuration.VirtioTransport);
                Bus.MapMmio(VirtioBase, VirtioBlock.Size, Virtio);
            }
            else if (configuration.DiskInterface == DiskInterface.Nvme)
            {
                if (emulated && !assignedDevices)
                {
                    throw new ArgumentException("An NVMe controller is a physical machine's or an assigned one: QEMU's emulated NVMe is not modelled.", nameof(configuration));
                }
                Nvme = new NvmeController(sim, prefix + ".disk0", memory, medium, HardwareProfile.CyclesIn(t.PcieMmioNanoseconds, profile.FrequencyHz),
                    Tick.FromNanoseconds((ulong)t.CommandFetchNanoseconds), (cpu, vector) => _apics[cpu].Accept(vector));
                Bus.MapMmio(NvmeBase, NvmeController.Size, Nvme);
            }
            else if (configuration.DiskInterface == DiskInterface.AtaPio)
            {
                Disk = new AtaDisk(sim, prefix + ".disk0", medium, Cycles(t.AtaIoNanoseconds), () => IoApic.Assert(DiskIrq), () => IoApic.Deassert(DiskIrq));
                Bus.MapPorts(AtaDisk.CommandBase, AtaDisk.CommandBase + 7, Disk);
                Bus.MapPorts(AtaDisk.ControlPort, AtaDisk.ControlPort, Disk);
            }
            else
            {
                int ahciCycles = assignedDevices ? HardwareProfile.CyclesIn(t.PcieMmioNanoseconds, profile.FrequencyHz) : Cycles(t.PcieMmioNanoseconds);
                Ahci = new AhciDisk(sim, prefix + ".disk0", memory, medium, ahciCycles,
                    Tick.FromNanoseconds((ulong)t.CommandFetchNanoseconds), () => IoApic.Assert(AhciIrq), () => IoApic.Deassert(AhciIrq));
                Bus.MapMmio(AhciBase, AhciDisk.Size, Ahci);
            }
        }
        if (configuration.Nic)
        {
            Link = host?.Port ?? LinkOf(sim, t, prefix + ".link");
            INetworkCard card;
            if (configuration.Network == NetworkInterface.Virtio)
            {
                if (!emulated)
                {
                    throw new ArgumentException("A virtio network card is a virtual machine's: a physical machine has none.", nameof(configuration));
                }
                card = VirtioNet = new VirtioNet(sim, prefix + ".nic0", memory, Link, 0, () => IoApic.Assert(VirtioNetIrq), () => IoApic.Deassert(VirtioNetIrq), configuration.VirtioTransport);
                Bus.MapMmio(VirtioNetBase, VirtioMmioDevice.Size, VirtioNet);
            }
            else if (configuration.Network == NetworkInterface.Ixgbe)
            {
                if (emulated)
                {
                    throw new ArgumentException("An 82599 with its queues is a physical machine's NIC: the monitors emulate an e1000, and an assigned function is the e1000-register one.", nameof(configuration));
                }
                card = Ixgbe = new Nic82599(sim, prefix + ".nic0", memory, Link, HardwareProfile.CyclesIn(t.PcieMmioNanoseconds, profile.FrequencyHz), (cpu, vector) => _apics[cpu].Accept(vector));
                Bus.MapMmio(NicBase, Nic82599.Size, Ixgbe);
            }
            else
            {
                int nicCycles = assignedDevices ? HardwareProfile.CyclesIn(t.PcieMmioNanoseconds, profile.FrequencyHz) : Cycles(t.PcieMmioNanoseconds);
                card = Nic = new Nic8254x(sim, prefix + ".nic0", memory, Link, nicCycles, () => IoApic.Assert(NicIrq));
                Bus.MapMmio(NicBase, Nic8254x.Size, Nic);
            }
            Peer = new NetworkPeer(sim, prefix + ".peer", card, Tick.FromNanoseconds((ulong)t.PeerTurnaroundNanoseconds));
            Network = card;
        }
        if (configuration.Balloon)
        {
            if (!emulated)
            {
                throw new ArgumentException("A memory balloon is a virtual machine's: a physical machine has none.", nameof(configuration));
            }
            Balloon = new VirtioBalloon(sim, prefix + ".balloon", memory, () => IoApic.Assert(BalloonIrq), () => IoApic.Deassert(BalloonIrq));
            Bus.MapMmio(BalloonBase, VirtioMmioDevice.Size, Balloon);
        }
        if (emulated)
        {
            Emulation = new EmulationWork();
            Com1.Emulation = Emulation;
            Disk?.Emulation = Emulation;
            Ahci?.Emulation = Emulation;
            Nic?.Emulation = Emulation;
            Virtio?.Emulation = Emulation;
            VirtioNet?.Emulation = Emulation;
            Balloon?.Emulation = Emulation;
        }
    }

    /// <summary>The medium of a disk of <paramref name="kind"/> and <paramref name="sectors"/>; a rotating disk's seeks draw from the stream <paramref name="name"/>.</summary>
    public static IStorageMedium MediumOf(Simulator sim, DiskKind kind, ulong sectors, string name)
    {
        ArgumentNullException.ThrowIfNull(sim);
        return kind switch
        {
            DiskKind.SolidState => new SolidStateDisk(sectors),
            DiskKind.Nvme => SolidStateDisk.DcP4500(sectors),
            DiskKind.Rotating => new RotatingDisk(sectors, sim.Random.For(name)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No medium for a machine without a disk."),
        };
    }

    /// <summary>The link of a NIC on a platform of <paramref name="timings"/>: its rate and propagation delay, its statistics under <paramref name="name"/>.</summary>
    public static EthernetLink LinkOf(Simulator sim, PlatformTimings timings, string name)
    {
        ArgumentNullException.ThrowIfNull(timings);
        return new EthernetLink(sim, timings.LinkBitsPerSecond, Tick.FromNanoseconds((ulong)timings.LinkPropagationNanoseconds), name);
    }

    /// <summary>For a virtual machine's devices, where their software models record what each access does; null for a physical machine's.</summary>
    public EmulationWork? Emulation { get; }

    /// <summary>The memory balloon, or null when the machine has none.</summary>
    public VirtioBalloon? Balloon { get; }

    public DeviceBus Bus { get; }

    public Uart8250 Com1 { get; }

    /// <summary>The I/O APIC at 0xFEC00000, routing device lines to the CPUs' local APICs.</summary>
    public IoApic IoApic { get; }

    /// <summary>The disk on the primary ATA channel, or null when configured without one or on AHCI.</summary>
    public AtaDisk? Disk { get; }

    /// <summary>The SATA disk behind the AHCI adapter, or null when configured without one or on the ATA channel.</summary>
    public AhciDisk? Ahci { get; }

    /// <summary>The NVMe controller, when the disk's interface is NVMe.</summary>
    public NvmeController? Nvme { get; }

    /// <summary>The platform's logical CPUs (a local APIC each).</summary>
    public int LogicalCpus => _apics.Length;

    /// <summary>The paravirtual block device, or null when the disk has another interface.</summary>
    public VirtioBlock? Virtio { get; }

    /// <summary>Whether there is a disk, on any interface.</summary>
    public bool HasDisk => Disk is not null || Ahci is not null || Virtio is not null || Nvme is not null;

    /// <summary>The e1000 network card, or null when configured without one or with virtio-net.</summary>
    public Nic8254x? Nic { get; }

    /// <summary>The multi-queue 10 GbE NIC, when the machine has one instead of the e1000.</summary>
    public Nic82599? Ixgbe { get; }

    /// <summary>The paravirtual network card, or null when the NIC is an e1000 or there is none.</summary>
    public VirtioNet? VirtioNet { get; }

    /// <summary>The network card, either kind, or null when configured without one.</summary>
    public INetworkCard? Network { get; }

    /// <summary>The machine at the link's far end, with the network card: it echoes every frame after the turnaround time unless a workload's client serves the frame's port.</summary>
    public NetworkPeer? Peer { get; }

    /// <summary>Whether <paramref name="address"/> is a register of the virtio block device or the virtio network card.</summary>
    public static bool IsVirtio(ulong address) =>
        (address >= VirtioBase && address < VirtioBase + VirtioMmioDevice.Size) || (address >= VirtioNetBase && address < VirtioNetBase + VirtioMmioDevice.Size);

    public EthernetLink? Link { get; }

    /// <summary>The local APIC of CPU <paramref name="index"/>.</summary>
    public LocalApic ApicOf(int index) => _apics[index];

    /// <summary>
    /// Carries an IPI from <paramref name="from"/> to its destinations (the ICR's shorthand, or the
    /// physical APIC ID in its high half, 0xFF for all): each accepts it after the delivery time.
    /// Fixed delivery mode only; other messages are dropped (the sender counted them).
    /// </summary>
    private void SendInterprocessor(Simulator sim, LocalApic from, uint low, uint high, Tick delivery)
    {
        const uint FixedMode = 0;
        if (((low >> 8) & 0x7) != FixedMode || (low & (1u << 11)) != 0)
        {
            return; // INIT, start-up, NMI, lowest priority, or a logical destination: not modelled
        }
        int vector = (int)(low & 0xFF);
        uint destination = high >> 24;
        Tick at = sim.Now + delivery;
        foreach (LocalApic apic in _apics)
        {
            bool to = ((low >> 18) & 0x3) switch
            {
                0 => destination == 0xFF || apic.Id == destination,
                1 => apic == from,
                2 => true,
                _ => apic != from,
            };
            if (to)
            {
                apic.Receive(vector, at);
            }
        }
    }

    /// <summary>
    /// A register access by CPU <paramref name="cpu"/>: the local APIC page reaches that CPU's own
    /// APIC (every CPU sees its APIC at the same address); everything else goes to the bus.
    /// Returns the cycles the access takes.
    /// </summary>
    public int Access(int cpu, Instruction instruction, ulong address, ulong value, out ulong readValue)
    {
        if (instruction is Instruction.MmioRead or Instruction.MmioWrite && IsLocalApic(address))
        {
            LocalApic apic = _apics[cpu];
            if (instruction == Instruction.MmioRead)
            {
                (readValue, int cycles) = apic.Read(address - LocalApic.DefaultBase);
                return cycles;
            }
            readValue = 0;
            return apic.Write(address - LocalApic.DefaultBase, value);
        }
        return Bus.Access(instruction, address, value, out readValue);
    }

    /// <summary>Whether <paramref name="address"/> lies in the local APIC's register page.</summary>
    public static bool IsLocalApic(ulong address) => address >= LocalApic.DefaultBase && address < LocalApic.DefaultBase + LocalApic.Size;
}
