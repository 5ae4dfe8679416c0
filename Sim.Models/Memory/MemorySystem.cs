using Sim.Engine.Statistics;
using Sim.Models.Hardware;

namespace Sim.Models.Memory;

/// <summary>
/// What the cores of one machine share on the way to memory: each socket's last-level cache and
/// memory controller, the interconnect between sockets, and the coherence directory that keeps
/// the cores' private caches coherent. Physical memory is split evenly over the sockets in
/// address order (node <c>n</c> holds the <c>n</c>-th share), so every frame has a home node; a
/// line from another node's memory crosses the interconnect and costs the profile's remote
/// latency on top of the local one.
/// </summary>
/// <remarks>
/// A machine of one core has no directory: nothing else can hold its lines, and it pays for none
/// of the bookkeeping. Statistics are registered under the machine's group: <c>l3</c> and
/// <c>memory_controller</c> for one socket, <c>socketN.l3</c> and <c>socketN.memory_controller</c>
/// for several, <c>interconnect.NtoM</c> per direction and <c>coherence</c>.
/// </remarks>
public sealed class MemorySystem
{
    private readonly HardwareProfile _profile;
    private readonly Topology _topology;
    private readonly StatGroup _stats;
    private readonly Cache?[] _lastLevels;
    private readonly LineChannel[] _controllers;
    private readonly LineChannel[,]? _links;
    private readonly ulong _nodeBytes;
    private readonly int _coresInUse;
    private readonly Queue<ulong> _leftDirty = new(); // lines a last level evicted modified during the access in progress
    private int _cores;

    /// <param name="profile">The part: caches, memory, coherence costs.</param>
    /// <param name="topology">The machine's shape: its sockets and their cores (threads are the cores' business).</param>
    /// <param name="cores">The cores in use, the first ones of the topology.</param>
    /// <param name="memoryBytes">The machine's physical memory, split over the sockets.</param>
    /// <param name="stats">The machine's statistics group.</param>
    public MemorySystem(HardwareProfile profile, Topology topology, int cores, ulong memoryBytes, StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(stats);
        if (cores < 1 || cores > topology.Cores || topology.SocketsFor(cores) != topology.Sockets)
        {
            throw new ArgumentOutOfRangeException(nameof(cores), cores, $"The cores in use must fill every socket of {topology} but the last, at least partly.");
        }
        if (cores > 1 && profile.Coherence is null)
        {
            throw new ArgumentException($"Profile {profile.Name} has no coherence model, so a machine of it has one core ({cores} asked).", nameof(cores));
        }
        if (cores > CoherenceDirectory.MaxCores)
        {
            throw new ArgumentException($"A machine has at most {CoherenceDirectory.MaxCores} cores ({cores} asked).", nameof(cores));
        }
        _profile = profile;
        _topology = topology;
        _coresInUse = cores;
        _stats = stats;
        int sockets = topology.Sockets;
        _nodeBytes = memoryBytes / (ulong)sockets;
        _lastLevels = new Cache?[sockets];
        _controllers = new LineChannel[sockets];
        for (int s = 0; s < sockets; s++)
        {
            StatGroup socket = sockets == 1 ? stats : stats.Child($"socket{s}");
            _lastLevels[s] = profile.L3 is null ? null : new Cache(profile.L3, socket.Child("l3"));
            _controllers[s] = new LineChannel(profile.L2.LineBytes, profile.DramBytesPerSecond, profile.FrequencyHz, socket.Child("memory_controller"));
            if (_lastLevels[s] is { } l3)
            {
                l3.WroteBack = LeftDirty;
            }
        }
        if (cores > 1)
        {
            Directory = new CoherenceDirectory(profile, sockets, stats.Child("coherence"));
            for (int s = 0; s < sockets; s++)
            {
                int socket = s;
                _lastLevels[s]!.Evicted = address => Directory.OnLastLevelEviction(socket, address);
            }
        }
        if (sockets > 1)
        {
            _links = new LineChannel[sockets, sockets];
            for (int from = 0; from < sockets; from++)
            {
                for (int to = 0; to < sockets; to++)
                {
                    if (from != to)
                    {
                        _links[from, to] = new LineChannel(profile.L2.LineBytes, profile.Coherence!.InterconnectBytesPerSecond, profile.FrequencyHz, stats.Child($"interconnect.{from}to{to}"));
                    }
                }
            }
        }
    }

    /// <summary>A machine of one core on one socket of <paramref name="profile"/>, with its memory in one node.</summary>
    public static MemorySystem SingleCore(HardwareProfile profile, StatGroup stats) => new(profile, new Topology(1, 1, 1), 1, ulong.MaxValue, stats);

    /// <summary>The coherence directory, or null on a machine of one core.</summary>
    public CoherenceDirectory? Directory { get; }

    /// <summary>The last-level cache of <paramref name="socket"/>, or null where the profile has none.</summary>
    public Cache? LastLevelOf(int socket) => _lastLevels[socket];

    /// <summary>The node (socket) whose memory holds <paramref name="physicalAddress"/>.</summary>
    public int NodeOf(ulong physicalAddress) => PhysicalMemory.NodeOf(physicalAddress, _nodeBytes, _lastLevels.Length);

    /// <summary>The private caches of the next core (cores are added in order, socket by socket), named by <paramref name="stats"/>.</summary>
    public MemoryPath AddCore(StatGroup stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        if (_cores == _coresInUse)
        {
            throw new InvalidOperationException($"The machine uses {_coresInUse} core(s) of {_topology}.");
        }
        int socket = _topology.SocketOf(_cores++);
        return new MemoryPath(_profile, stats, this, socket);
    }

    /// <summary>
    /// A line of <paramref name="physicalAddress"/> leaves memory for <paramref name="socket"/>,
    /// asked for at cycle <paramref name="now"/>: the cycle its transfer starts on the home node's
    /// controller (and, from another node, on the interconnect toward the asker), and whether it
    /// came from another node.
    /// </summary>
    internal ulong TakeLine(int socket, ulong physicalAddress, ulong now, out bool remote)
    {
        int home = NodeOf(physicalAddress);
        ulong start = _controllers[home].Take(now);
        remote = home != socket;
        return remote ? _links![home, socket].Take(start) : start;
    }

    /// <summary>
    /// The last level (an L3, or a core's L2 where the profile has no L3) evicted the line of
    /// <paramref name="physicalAddress"/> modified. Its write to memory is taken after the access
    /// that caused the eviction has taken its own line (<see cref="WriteBackEvicted"/>), as a
    /// victim buffer lets the demand fetch go first.
    /// </summary>
    internal void LeftDirty(ulong physicalAddress) => _leftDirty.Enqueue(physicalAddress);

    /// <summary>Writes back, from <paramref name="socket"/> at cycle <paramref name="now"/>, every line the access in progress evicted modified from a last level.</summary>
    internal void WriteBackEvicted(int socket, ulong now)
    {
        while (_leftDirty.TryDequeue(out ulong physicalAddress))
        {
            TakeWriteback(socket, physicalAddress, now);
        }
    }

    /// <summary>
    /// A dirty line of <paramref name="physicalAddress"/> leaves <paramref name="socket"/> for
    /// memory at cycle <paramref name="now"/>: it occupies its home node's controller, and, when
    /// that is another socket's, the interconnect toward it first.
    /// </summary>
    internal void TakeWriteback(int socket, ulong physicalAddress, ulong now)
    {
        int home = NodeOf(physicalAddress);
        _controllers[home].Take(home == socket ? now : _links![socket, home].Take(now));
    }
}
