namespace Sim.Models.Devices;

/// <summary>A device with registers in physical memory (MMIO), addressed by offset from its base.</summary>
public interface IMmioDevice
{
    string Name { get; }

    (ulong Value, int Cycles) Read(ulong offset);

    int Write(ulong offset, ulong value);
}
