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
    /// <summary>The frame of <paramref name="bytes"/> a card sends from memory at <paramref name="frame"/> (its first byte): the UDP source port of its header and its payload's id, read with it.</summary>
    public static UdpFrame ReadSent(Memory.PhysicalMemory memory, ulong frame, int bytes)
    {
        ArgumentNullException.ThrowIfNull(memory);
        return new UdpFrame(bytes, (ushort)memory.ReadField(frame + EthernetLink.SourcePortOffset, 2), ReadId(memory, frame));
    }

    /// <summary>Writes this frame, received, into memory at <paramref name="frame"/> (where its first byte goes): its UDP header's destination port and its payload's id.</summary>
    public void WriteReceived(Memory.PhysicalMemory memory, ulong frame)
    {
        ArgumentNullException.ThrowIfNull(memory);
        memory.WriteField(frame + EthernetLink.DestinationPortOffset, 2, Port);
        WriteId(memory, frame, Id);
    }

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
