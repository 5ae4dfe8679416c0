using Sim.Engine;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Platform;

/// <summary>
/// The composition root of one physical machine (gem5's "one place that builds the machine"):
/// physical memory, the sockets' last-level caches and memory controllers (<see cref="MemorySystem"/>), the PC's devices (<see cref="PlatformDevices"/>),
/// and per core its caches, MMU, local APIC and the core itself. The software that runs on it (a
/// kernel, or a hypervisor) is made by <c>hostFactory</c>, which sees the machine's memory and
/// devices, and answers the cores' exceptions, system calls, interrupts and device accesses.
/// Components are named host.cpuN, host.l3, host.bus, host.com1.
/// </summary>
public sealed class Machine : IPlatform
{
    private readonly Core[] _cores;
    private readonly Core[] _active;              // the context each physical core runs: its interrupts go there
    private readonly Mmu[] _mmus;                 // each logical CPU's MMU (a context that moves leaves it behind)
    private readonly CpuOccupancy[] _occupancy;   // each logical CPU's busy and idle cycles, whichever context ran
    private readonly MemoryPath[] _memoryPaths;   // each logical CPU's caches, shared by the threads of a core
    private readonly List<Core> _contexts = [];   // every context, physical cores' own first
    private readonly List<int> _physicalOf = [];  // the physical core of each context, in the same order
    private readonly SpinLockHolders _lockHolders = new(); // the kernel spinlocks' holders, shared by every context

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
        Topology = configuration.TopologyOn(profile);
        Memory.SplitIntoNodes(Topology.Sockets); // each socket's memory is a NUMA node, homed as MemorySystem.NodeOf says
        MemorySystem = new MemorySystem(profile, Topology, configuration.Cores, configuration.MemoryBytes, sim.Stats.Group("host"));
        _cores = new Core[configuration.LogicalCpus];
        _active = new Core[configuration.LogicalCpus];
        _mmus = new Mmu[configuration.LogicalCpus];
        _occupancy = [.. Enumerable.Range(0, configuration.LogicalCpus).Select(_ => new CpuOccupancy())];
        _memoryPaths = new MemoryPath[configuration.LogicalCpus];
        Devices = new PlatformDevices(sim, "host", "host.cpu", profile, configuration, Memory, i => vector => _active[i].RaiseInterrupt(vector), emulated: false);
        Host = hostFactory(this);
        HardwareProfile thread = HardwareThreads.PerThread(profile, configuration.ThreadsPerCore);
        var paths = new MemoryPath[configuration.Cores];
        for (int i = 0; i < configuration.LogicalCpus; i++)
        {
            // Logical CPU i is thread i / Cores of core i % Cores; the threads of a core share its caches.
            string path = $"host.cpu{i}";
            int core = i % configuration.Cores;
            MemoryPath memoryPath = paths[core] ??= MemorySystem.AddCore(sim.Stats.Group(path));
            var mmu = _mmus[i] = new Mmu(thread, Memory, memoryPath, sim.Stats.Group(path));
            _memoryPaths[i] = memoryPath;
            _cores[i] = _active[i] = new Core(sim, path, thread, mmu, memoryPath, Host) { SyncQuantumCycles = Quantum, LockHolders = _lockHolders, Occupancy = _occupancy[i] };
            if (i >= configuration.Cores)
            {
                _cores[i].ShareCoreWith(_cores[core]);
            }
            _contexts.Add(_cores[i]);
            _physicalOf.Add(i);
        }
    }

    public Simulator Sim { get; }

    /// <summary>The cores' synchronization quantum in cycles: the configuration's on a machine of several cores, 0 (exact order) on one.</summary>
    private ulong Quantum => Configuration.LogicalCpus > 1 ? (ulong)HardwareProfile.CyclesIn(Configuration.SyncQuantumNanoseconds, Profile.FrequencyHz) : 0;

    public HardwareProfile Profile { get; }

    public MachineConfiguration Configuration { get; }

    public string Name => "host";

    public PhysicalMemory Memory { get; }

    /// <summary>The machine's shape: its sockets, their cores (those in use are the first <see cref="MachineConfiguration.Cores"/>) and each core's hardware threads.</summary>
    public Topology Topology { get; }

    /// <summary>The socket (NUMA node) of logical CPU <paramref name="cpu"/>: that of its core, <c>cpu</c> modulo the cores in use.</summary>
    public int SocketOfCpu(int cpu) => Topology.SocketOf(cpu % Configuration.Cores);

    /// <summary>What the cores share on the way to memory: last-level caches, memory controllers, the interconnect, the coherence directory.</summary>
    public MemorySystem MemorySystem { get; }

    /// <summary>The boot socket's last-level cache, or null where the profile has none.</summary>
    public Cache? L3 => MemorySystem.LastLevelOf(0);

    public PlatformDevices Devices { get; }

    public ICoreHost Host { get; }

    /// <summary>The logical CPUs, each a core's context for one of its hardware threads (one per core without SMT); a hypervisor that migrates virtual CPUs may move one of these contexts to another core (<see cref="MoveContext"/>), whose MMU is then <see cref="MmuOf"/>.</summary>
    public IReadOnlyList<Core> Cores => _cores;

    public Core BootCore => _cores[0];

    /// <summary>
    /// Another execution context on physical core <paramref name="physical"/>, named
    /// <paramref name="path"/>, sharing that core's MMU, TLBs and caches: a hypervisor gives each
    /// virtual CPU it time-shares on the core one (<see cref="Core.Reschedule"/>). It starts
    /// descheduled; the core's own context stays the one its interrupts reach until
    /// <see cref="Activate"/>.
    /// </summary>
    public Core AddContext(int physical, string path)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(physical);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(physical, _cores.Length);
        var context = new Core(Sim, path, Profile, _mmus[physical], _memoryPaths[physical], Host) { SyncQuantumCycles = Quantum, LockHolders = _lockHolders, Occupancy = _occupancy[physical] };
        context.Deschedule();
        _contexts.Add(context);
        _physicalOf.Add(physical);
        return context;
    }

    /// <summary>
    /// Moves <paramref name="context"/>, waiting for its core, to physical core
    /// <paramref name="physical"/> (a hypervisor migrates a virtual CPU): it shares that core's
    /// MMU and caches from now on, and <paramref name="translation"/>, attached to that core's
    /// MMU, is its guest's translation state (<see cref="Core.MoveTo"/>).
    /// </summary>
    public void MoveContext(Core context, int physical, Mmu.GuestTranslation? translation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegative(physical);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(physical, _cores.Length);
        int i = _contexts.IndexOf(context);
        if (i < 0)
        {
            throw new ArgumentException($"{context.Path} is not a context of this machine.", nameof(context));
        }
        if (_active[_physicalOf[i]] == context)
        {
            throw new InvalidOperationException($"{context.Path} is the context core {_physicalOf[i]} runs: it leaves its core before it moves.");
        }
        context.MoveTo(_mmus[physical], _memoryPaths[physical], translation);
        context.Occupancy = _occupancy[physical];
        _physicalOf[i] = physical;
    }

    /// <summary>Each logical CPU's busy and idle cycles, whichever contexts ran there.</summary>
    public IReadOnlyList<CpuOccupancy> Occupancy => _occupancy;

    /// <summary>Logical CPU <paramref name="physical"/>'s MMU, whichever context runs there.</summary>
    public Mmu MmuOf(int physical) => _mmus[physical];

    /// <summary>The physical core <paramref name="context"/> runs on.</summary>
    public int PhysicalIndexOf(Core context)
    {
        int i = _contexts.IndexOf(context);
        return i >= 0 ? _physicalOf[i] : throw new ArgumentException($"{context?.Path} is not a context of this machine.", nameof(context));
    }

    /// <summary>Makes <paramref name="context"/> the one running on its physical core: the core's interrupts are delivered to it.</summary>
    public void Activate(Core context)
    {
        ArgumentNullException.ThrowIfNull(context);
        int physical = PhysicalIndexOf(context);
        _active[physical].HandOverInterrupts(context); // pending interrupts wait in the physical local APIC, whichever context runs
        _active[physical] = context;
    }

    /// <summary>Every execution context: the physical cores' own, then those added for virtual CPUs.</summary>
    public IReadOnlyList<Core> Contexts => _contexts;

    /// <summary>Performs a device access for <paramref name="core"/> on the machine's devices; a host's <see cref="ICoreHost.OnDeviceAccess"/> calls this.</summary>
    public int DeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue)
    {
        ArgumentNullException.ThrowIfNull(core);
        return Devices.Access(PhysicalIndexOf(core), instruction, address, value, out readValue);
    }

    /// <summary>A physical machine has no hypervisor below it.</summary>
    public ParavirtFeatures Paravirt => ParavirtFeatures.None;

    public void RegisterStealTime(int cpu, ulong physicalAddress) =>
        throw new InvalidOperationException("A physical machine has no hypervisor to share steal time with.");

    public AddressSpaceBuilder NewAddressSpace(Func<int>? node = null) => new(Memory, node);

    public ulong ReadWord(ulong physicalAddress) => Memory.ReadUInt64(physicalAddress);

    public void WriteWord(ulong physicalAddress, ulong value) => Memory.WriteUInt64(physicalAddress, value);
}
