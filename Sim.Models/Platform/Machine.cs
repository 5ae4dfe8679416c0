using Sim.Engine;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Platform;

/// <summary>
/// The composition root of one physical machine (gem5's "one place that builds the machine"):
/// physical memory, the shared last-level cache, the device bus with the legacy devices (COM1 at
/// 0x3F8, port 0x80), the I/O APIC, the disk (on an AHCI adapter or the primary ATA channel), and per core its
/// caches, MMU, local APIC and the core itself. The software
/// that runs on it (a kernel, later a hypervisor) is made by <c>hostFactory</c>, which sees the
/// machine's memory and devices, and answers the cores' exceptions, system calls, interrupts and
/// device accesses. Components are named host.cpuN, host.l3, host.bus, host.com1.
/// </summary>
public sealed class Machine
{
    private readonly Core[] _cores;
    private readonly LocalApic[] _apics;

    public Machine(Simulator sim, HardwareProfile profile, MachineConfiguration configuration, Func<Machine, ICoreHost> hostFactory)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(hostFactory);
        profile.Validate();
        configuration.Validate();
        Sim = sim;
        Profile = profile;
        Configuration = configuration;
        Memory = new PhysicalMemory(configuration.MemoryBytes);
        L3 = profile.L3 is null ? null : new Cache(profile.L3, sim.Stats.Group("host.l3"));
        int legacyCycles = HardwareProfile.CyclesIn(configuration.Timings.LegacyIoNanoseconds, profile.FrequencyHz);
        Bus = new DeviceBus(sim.Stats.Group("host.bus"), legacyCycles);
        Com1 = new Uart8250(sim, "host.com1", 0x3F8, legacyCycles, raiseInterrupt: null);
        Bus.MapPorts(0x3F8, 0x3FF, Com1);
        Bus.MapPorts(PostPort.Port, PostPort.Port, new PostPort(legacyCycles));
        Host = hostFactory(this);

        int apicCycles = HardwareProfile.CyclesIn(configuration.Timings.LocalApicAccessNanoseconds, profile.FrequencyHz);
        _cores = new Core[configuration.Cores];
        _apics = new LocalApic[configuration.Cores];
        for (int i = 0; i < configuration.Cores; i++)
        {
            string path = $"host.cpu{i}";
            var memoryPath = new MemoryPath(profile, sim.Stats.Group(path), L3);
            var mmu = new Mmu(profile, Memory, memoryPath, sim.Stats.Group(path));
            _cores[i] = new Core(sim, path, profile, mmu, memoryPath, Host);
            _apics[i] = new LocalApic(sim, path + ".apic", (uint)i, configuration.Timings.ApicTimerHz, apicCycles, _cores[i].RaiseInterrupt);
        }
        IoApic = new IoApic(sim.Stats.Group("host.ioapic"), "host.ioapic", apicCycles, id => id < _apics.Length ? _apics[id] : null);
        Bus.MapMmio(IoApic.DefaultBase, IoApic.Size, IoApic);
        foreach (LocalApic apic in _apics)
        {
            apic.EoiBroadcast = IoApic.EndOfInterrupt;
        }
        if (configuration.Disk != DiskKind.None)
        {
            IStorageMedium medium = configuration.Disk == DiskKind.SolidState
                ? new SolidStateDisk(configuration.DiskSectors)
                : new RotatingDisk(configuration.DiskSectors, sim.Random.For("host.disk0.medium"));
            if (configuration.DiskInterface == DiskInterface.AtaPio)
            {
                int ataCycles = HardwareProfile.CyclesIn(configuration.Timings.AtaIoNanoseconds, profile.FrequencyHz);
                Disk = new AtaDisk(sim, "host.disk0", medium, ataCycles, () => IoApic.Assert(DiskIrq), () => IoApic.Deassert(DiskIrq));
                Bus.MapPorts(AtaDisk.CommandBase, AtaDisk.CommandBase + 7, Disk);
                Bus.MapPorts(AtaDisk.ControlPort, AtaDisk.ControlPort, Disk);
            }
            else
            {
                PlatformTimings t = configuration.Timings;
                Ahci = new AhciDisk(sim, "host.disk0", Memory, medium, HardwareProfile.CyclesIn(t.PcieMmioNanoseconds, profile.FrequencyHz),
                    Engine.Time.Tick.FromNanoseconds((ulong)t.AhciCommandNanoseconds), () => IoApic.Assert(AhciIrq), () => IoApic.Deassert(AhciIrq));
                Bus.MapMmio(AhciBase, AhciDisk.Size, Ahci);
            }
        }
        if (configuration.Nic)
        {
            PlatformTimings t = configuration.Timings;
            Link = new EthernetLink(sim, t.LinkBitsPerSecond, Engine.Time.Tick.FromNanoseconds((ulong)t.LinkPropagationNanoseconds));
            Nic = new Nic8254x(sim, "host.nic0", Memory, Link, HardwareProfile.CyclesIn(t.PcieMmioNanoseconds, profile.FrequencyHz), () => IoApic.Assert(NicIrq));
            Bus.MapMmio(NicBase, Nic8254x.Size, Nic);
            var turnaround = Engine.Time.Tick.FromNanoseconds((ulong)t.PeerTurnaroundNanoseconds);
            Nic.PeerReceives = bytes => sim.Schedule(new Engine.Events.CallbackEvent("host.peer.reply", () => Nic.PeerSends(bytes)), sim.Now + turnaround);
        }
    }

    public Simulator Sim { get; }

    public HardwareProfile Profile { get; }

    public MachineConfiguration Configuration { get; }

    public PhysicalMemory Memory { get; }

    public Cache? L3 { get; }

    public DeviceBus Bus { get; }

    public Uart8250 Com1 { get; }

    /// <summary>The I/O APIC at 0xFEC00000, routing device lines to the cores' local APICs.</summary>
    public IoApic IoApic { get; }

    /// <summary>The I/O APIC pin of the primary ATA channel (IRQ 14, as on PC platforms).</summary>
    public const int DiskIrq = 14;

    /// <summary>The disk on the primary ATA channel, or null when configured without one or on AHCI.</summary>
    public AtaDisk? Disk { get; }

    /// <summary>The I/O APIC pin of the AHCI adapter (a PCI INTx line, level-triggered).</summary>
    public const int AhciIrq = 19;

    /// <summary>Where the AHCI adapter's registers are mapped (its ABAR, PCI BAR5).</summary>
    public const ulong AhciBase = 0xFEBF_0000;

    /// <summary>The SATA disk behind the AHCI adapter, or null when configured without one or on the ATA channel.</summary>
    public AhciDisk? Ahci { get; }

    /// <summary>Whether the machine has a disk, on either interface.</summary>
    public bool HasDisk => Disk is not null || Ahci is not null;

    /// <summary>The I/O APIC pin of the NIC (edge-triggered, as message-signalled interrupts behave).</summary>
    public const int NicIrq = 11;

    /// <summary>Where the NIC's registers are mapped (its memory BAR).</summary>
    public const ulong NicBase = 0xFEBC_0000;

    /// <summary>The network card, or null when configured without one. By default its peer echoes every frame after the turnaround time.</summary>
    public Nic8254x? Nic { get; }

    public EthernetLink? Link { get; }

    public ICoreHost Host { get; }

    public IReadOnlyList<Core> Cores => _cores;

    /// <summary>The local APIC of core <paramref name="index"/>.</summary>
    public LocalApic ApicOf(int index) => _apics[index];

    /// <summary>
    /// Performs a device access for <paramref name="core"/>: the local APIC page reaches that core's
    /// own APIC (every core sees its APIC at the same address); everything else goes to the bus.
    /// A host's <see cref="ICoreHost.OnDeviceAccess"/> calls this.
    /// </summary>
    public int DeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue)
    {
        ArgumentNullException.ThrowIfNull(core);
        if (instruction is Instruction.MmioRead or Instruction.MmioWrite &&
            address >= LocalApic.DefaultBase && address < LocalApic.DefaultBase + LocalApic.Size)
        {
            LocalApic apic = _apics[Array.IndexOf(_cores, core)];
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

    /// <summary>A fresh address space (a PML4 and the tables it grows) in this machine's memory.</summary>
    public AddressSpaceBuilder NewAddressSpace() => new(Memory);
}
