using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// The device's side of a split virtqueue in guest memory (virtio 1.1, section 2.6): a descriptor
/// table (16 bytes each: address, length, flags, next), an available ring written by the driver
/// (flags, index, ring of heads) and a used ring written by the device (flags, index, ring of id
/// and length). The device takes the heads made available since it last looked, and returns
/// buffers through the used ring; each side can ask the other not to notify it
/// (VRING_USED_F_NO_NOTIFY, VRING_AVAIL_F_NO_INTERRUPT).
/// </summary>
public sealed class Virtqueue(PhysicalMemory memory)
{
    /// <summary>Descriptors per queue (QueueNumMax).</summary>
    public const int Capacity = 128;

    public const ushort DescriptorNext = 1, DescriptorWrite = 2;
    public const ushort UsedNoNotify = 1, AvailNoInterrupt = 1;

    private ushort _lastAvail, _usedIndex;

    public bool Ready { get; set; }

    public ulong Descriptors { get; set; }

    public ulong Available { get; set; }

    public ulong Used { get; set; }

    /// <summary>Where a monitor's software model of the device records its ring accesses during an emulated access (null for a real device).</summary>
    public EmulationWork? Work { get; set; }

    /// <summary>Whether the driver has left used-buffer interrupts on.</summary>
    public bool DriverWantsInterrupt => (ReadU16(Available) & AvailNoInterrupt) == 0;

    /// <summary>Whether the driver has made a buffer available that the device has not taken.</summary>
    public bool HasAvailable => Ready && _lastAvail != ReadU16(Available + 2);

    /// <summary>Takes the next head the driver made available, if any.</summary>
    public bool TryTake(out ushort head)
    {
        if (!Ready)
        {
            throw new InvalidOperationException("The device used a virtqueue before the driver set QueueReady.");
        }
        head = 0;
        if (_lastAvail == ReadU16(Available + 2))
        {
            return false;
        }
        ulong entry = Available + 4 + (2UL * (ulong)(_lastAvail % Capacity));
        head = ReadU16(entry);
        _lastAvail++;
        Work?.Step(EmulationStep.VirtqueuePop);
        Work?.Read(Available + 2, 2); // the available index
        Work?.Read(entry, 2);
        return true;
    }

    public (ulong Address, uint Length, ushort Flags, ushort Next) Descriptor(ushort index)
    {
        ulong at = Descriptors + (16UL * index);
        Work?.Read(at, 16);
        ulong word = memory.ReadUInt64(at + 8);
        return (memory.ReadUInt64(at), (uint)word, (ushort)(word >> 32), (ushort)(word >> 48));
    }

    /// <summary>Returns the chain at <paramref name="head"/> to the driver with <paramref name="length"/> bytes written into it.</summary>
    public void PutUsed(ushort head, uint length)
    {
        ulong entry = Used + 4 + (8UL * (ulong)(_usedIndex % Capacity));
        Work?.Step(EmulationStep.VirtqueuePush);
        Work?.Write(entry, 8);
        Work?.Write(Used + 2, 2); // the used index
        memory.WriteField(entry, 4, head);       // id, a 32-bit field at a 4-byte boundary
        memory.WriteField(entry + 4, 4, length); // len
        _usedIndex++;
        WriteU16(Used + 2, _usedIndex);
    }

    /// <summary>Asks the driver not to kick (<paramref name="suppress"/>), or to kick again.</summary>
    public void SuppressNotifications(bool suppress) => WriteU16(Used, suppress ? UsedNoNotify : (ushort)0);

    private ushort ReadU16(ulong address) => (ushort)memory.ReadField(address, 2);

    private void WriteU16(ulong address, ushort value) => memory.WriteField(address, 2, value);
}
