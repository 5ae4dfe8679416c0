namespace Sim.Models.Devices;

/// <summary>
/// A UDP frame as the link's far end sees it: its length, the service's port (the destination
/// port of a frame the peer sends, the source port of one it receives) and the first 32-bit word
/// of its payload (<see cref="EthernetLink.PayloadOffset"/>), which the cards read from and write
/// to the frame in memory as they do the port. A client puts a request's number there and a
/// server copies it into each frame of its answer, as real protocols carry an id (a DNS query's
/// ID, a memcached UDP frame header's request ID): the client then tells its answers apart
/// whatever order the server's threads send them in.
/// </summary>
public readonly record struct UdpFrame(int Bytes, ushort Port, uint Id = 0)
{
    /// <summary>The id in the payload of the frame whose first byte is at <paramref name="frame"/>: two 16-bit fields, as the payload after 42 bytes of headers is only 2-byte aligned.</summary>
    public static uint ReadId(Memory.PhysicalMemory memory, ulong frame)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ulong at = frame + EthernetLink.PayloadOffset;
        return (uint)memory.ReadField(at, 2) | ((uint)memory.ReadField(at + 2, 2) << 16);
    }

    /// <summary>Writes <paramref name="id"/> into the payload of the frame whose first byte is at <paramref name="frame"/>.</summary>
    public static void WriteId(Memory.PhysicalMemory memory, ulong frame, uint id)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ulong at = frame + EthernetLink.PayloadOffset;
        memory.WriteField(at, 2, id & 0xFFFF);
        memory.WriteField(at + 2, 2, id >> 16);
    }
}
