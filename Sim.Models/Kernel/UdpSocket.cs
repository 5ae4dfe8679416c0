using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// A UDP socket of the kernel's datagram stack (the state of Linux's struct sock that the model
/// uses): its port, its send buffers, the datagrams received and not yet read, the processes
/// waiting in recvfrom in the order they began to wait, and, on an SMP kernel, its locks. The
/// paths that use it (sendto, recvfrom, the drivers' receive) are the kernel's.
/// </summary>
internal sealed class UdpSocket(ushort port, ulong txBuffer)
{
    private readonly Dictionary<int, List<ulong>> _txBuffers = new() { [0] = [txBuffer] };
    private LockWords? _locks;

    public ushort Port { get; } = port;

    public Queue<Datagram> Queued { get; } = new();

    public Queue<Process> Waiters { get; } = new();

    /// <summary>The socket's locks, a frame allocated at their first use (an SMP kernel's only: a uniprocessor build compiles spinlocks away).</summary>
    public LockWords Locks(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (_locks is not { } locks)
        {
            ulong frame = memory.AllocateFrame();
            locks = new LockWords(frame, frame + KernelObjects.LineBytes);
            _locks = locks;
        }
        return locks;
    }

    /// <summary>
    /// The buffer a send on <paramref name="cpu"/> copies its frame into (a frame, allocated on
    /// the CPU's first send). Model: one a CPU, reused by each of its sends, as skbs come hot
    /// from the CPU's own slab cache; each CPU's is its own, because a CPU's frame must stay
    /// as it was written until the card reads it, while another CPU's send is built. When the
    /// device has not yet read the CPU's buffer (<paramref name="inFlight"/>: a backend on another
    /// CPU, such as dom0's netback, takes frames later), the send takes another of the CPU's
    /// buffers that is not in flight, allocating one when all are, as a new skb would be: the
    /// frame in flight is never overwritten.
    /// </summary>
    public ulong TxBuffer(int cpu, PhysicalMemory memory, Func<ulong, bool>? inFlight = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (!_txBuffers.TryGetValue(cpu, out List<ulong>? buffers))
        {
            buffers = [memory.AllocateFrame()];
            _txBuffers.Add(cpu, buffers);
        }
        foreach (ulong buffer in buffers)
        {
            if (inFlight is null || !inFlight(buffer))
            {
                return buffer;
            }
        }
        ulong fresh = memory.AllocateFrame();
        buffers.Add(fresh);
        return fresh;
    }

    /// <summary>A datagram received and not yet read: its payload's length, where its frame's headers start, its payload's first word.</summary>
    public readonly record struct Datagram(int Bytes, ulong Buffer, uint Id);

    /// <summary>The socket's lock words on an SMP kernel: its receive queue's (sk_receive_queue.lock) and its wait queue's, on lines of their own.</summary>
    public readonly record struct LockWords(ulong ReceiveQueue, ulong WaitQueue);
}
