using Sim.Engine;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Platform;

/// <summary>
/// The composition root of one physical machine (gem5's "one place that builds the machine"):
/// physical memory, the shared last-level cache, the PC's devices (<see cref="PlatformDevices"/>),
/// and per core its caches, MMU, local APIC and the core itself. The software that runs on it (a
/// kernel, or a hypervisor) is made by <c>hostFactory</c>, which sees the machine's memory and
/// devices, and answers the cores' exceptions, system calls, interrupts and device accesses.
/// Components are named host.cpuN, host.l3, host.bus, host.com1.
/// </summary>
public sealed class Machine : IPlatform
{
    private readonly Core[] _cores;

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
        _cores = new Core[configuration.Cores];
        Devices = new PlatformDevices(sim, "host", "host.cpu", profile, configuration, Memory, i => vector => _cores[i].RaiseInterrupt(vector), emulated: false);
        Host = hostFactory(this);
        for (int i = 0; i < configuration.Cores; i++)
        {
            string path = $"host.cpu{i}";
            var memoryPath = new MemoryPath(profile, sim.Stats.Group(path), L3);
            var mmu = new Mmu(profile, Memory, memoryPath, sim.Stats.Group(path));
            _cores[i] = new Core(sim, path, profile, mmu, memoryPath, Host);
        }
    }

    public Simulator Sim { get; }

    public HardwareProfile Profile { get; }

    public MachineConfiguration Configuration { get; }

    public string Name => "host";

    public PhysicalMemory Memory { get; }

    public Cache? L3 { get; }

    public PlatformDevices Devices { get; }

    public ICoreHost Host { get; }

    public IReadOnlyList<Core> Cores => _cores;

    public Core BootCore => _cores[0];

    /// <summary>Performs a device access for <paramref name="core"/> on the machine's devices; a host's <see cref="ICoreHost.OnDeviceAccess"/> calls this.</summary>
    public int DeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue)
    {
        ArgumentNullException.ThrowIfNull(core);
        return Devices.Access(Array.IndexOf(_cores, core), instruction, address, value, out readValue);
    }

    public AddressSpaceBuilder NewAddressSpace() => new(Memory);
}
