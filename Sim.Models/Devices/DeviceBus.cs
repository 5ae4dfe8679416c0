using Sim.Engine.Statistics;
using Sim.Models.Cpu;

namespace Sim.Models.Devices;

/// <summary>
/// Routes port I/O and MMIO accesses to the devices that decode them, and counts every access by
/// device, so that a run can report how many register accesses a packet or a block request took
/// (what the emulated devices of the virtualization issue turn into VM exits).
/// </summary>
public sealed class DeviceBus
{
    private readonly List<(ushort First, ushort Last, IPortDevice Device, Counter Accesses)> _ports = [];
    private readonly List<(ulong Base, ulong Size, IMmioDevice Device, Counter Accesses)> _mmio = [];
    private readonly StatGroup _stats;
    private readonly Dictionary<object, Counter> _counterOf = new(ReferenceEqualityComparer.Instance); // one per device, however many ranges it decodes
    private readonly Counter _unclaimed;
    private readonly int _unclaimedCycles;

    /// <param name="unclaimedAccessCycles">What an access nothing decodes costs (it still crosses the bus; reads return all ones).</param>
    public DeviceBus(StatGroup stats, int unclaimedAccessCycles)
    {
        ArgumentNullException.ThrowIfNull(stats);
        _stats = stats;
        _unclaimedCycles = unclaimedAccessCycles;
        _unclaimed = stats.Counter("unclaimed_accesses", "count", "accesses no device decoded");
    }

    public void MapPorts(ushort first, ushort last, IPortDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (last < first || _ports.Any(p => first <= p.Last && p.First <= last))
        {
            throw new ArgumentException($"Ports 0x{first:X}-0x{last:X} for {device.Name} are empty or overlap another device's.");
        }
        _ports.Add((first, last, device, CounterOf(device, device.Name)));
    }

    public void MapMmio(ulong physicalBase, ulong size, IMmioDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (size == 0 || _mmio.Any(m => physicalBase < m.Base + m.Size && m.Base < physicalBase + size))
        {
            throw new ArgumentException($"MMIO 0x{physicalBase:X}+0x{size:X} for {device.Name} is empty or overlaps another device's.");
        }
        _mmio.Add((physicalBase, size, device, CounterOf(device, device.Name)));
    }

    private Counter CounterOf(object device, string name)
    {
        if (!_counterOf.TryGetValue(device, out Counter? counter))
        {
            counter = _stats.Child(name).Counter("accesses", "count", "register accesses through the bus");
            _counterOf.Add(device, counter);
        }
        return counter;
    }

    /// <summary>Performs one IN, OUT or MMIO access; returns its cycles.</summary>
    public int Access(Instruction instruction, ulong address, ulong value, out ulong readValue)
    {
        bool read = instruction is Instruction.In or Instruction.MmioRead;
        if (instruction is Instruction.In or Instruction.Out)
        {
            foreach (var (first, last, device, accesses) in _ports)
            {
                if (address >= first && address <= last)
                {
                    accesses.Increment();
                    if (read)
                    {
                        (readValue, int cycles) = device.Read((ushort)address);
                        return cycles;
                    }
                    readValue = 0;
                    return device.Write((ushort)address, value);
                }
            }
        }
        else if (instruction is Instruction.MmioRead or Instruction.MmioWrite)
        {
            foreach (var (physicalBase, size, device, accesses) in _mmio)
            {
                if (address >= physicalBase && address < physicalBase + size)
                {
                    accesses.Increment();
                    if (read)
                    {
                        (readValue, int cycles) = device.Read(address - physicalBase);
                        return cycles;
                    }
                    readValue = 0;
                    return device.Write(address - physicalBase, value);
                }
            }
        }
        else
        {
            throw new ArgumentException($"{instruction} is not a device access.", nameof(instruction));
        }
        _unclaimed.Increment();
        readValue = ulong.MaxValue;
        return _unclaimedCycles;
    }
}
