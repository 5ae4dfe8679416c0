using Sim.Engine.Statistics;
using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The datagram stack's state, whatever the driver: the bound sockets, by port and in the order
/// they were bound (the order the receive path wakes their waiters in), the frames dropped for a
/// port with no socket, and, on an SMP kernel, the card's transmit queue lock.
/// </summary>
internal sealed class SocketTable(Counter noSocket)
{
    private readonly Dictionary<ushort, UdpSocket> _byPort = [];
    private readonly List<UdpSocket> _bound = [];
    private ulong _txLock;

    /// <summary>Frames received for a port no socket is bound to.</summary>
    public Counter NoSocket { get; } = noSocket;

    /// <summary>The sockets in the order they were bound.</summary>
    public IReadOnlyList<UdpSocket> Bound => _bound;

    /// <summary>Whether a process waits in recvfrom on any socket.</summary>
    public bool AnyWaiter => _bound.Exists(s => s.Waiters.Count > 0);

    public bool TryGet(ushort port, out UdpSocket socket) => _byPort.TryGetValue(port, out socket!);

    /// <summary>A socket bound to <paramref name="port"/>, with a send buffer of its own.</summary>
    public UdpSocket Bind(ushort port, PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var socket = new UdpSocket(port, memory.AllocateFrame());
        _byPort.Add(port, socket);
        _bound.Add(socket);
        return socket;
    }

    /// <summary>The card's transmit queue lock on an SMP kernel, on a line of its own (allocated at the first send).</summary>
    public ulong TxLock(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        return _txLock = _txLock != 0 ? _txLock : memory.AllocateFrame();
    }
}
