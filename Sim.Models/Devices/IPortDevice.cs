namespace Sim.Models.Devices;

/// <summary>A device with registers in the I/O port space (IN and OUT).</summary>
public interface IPortDevice
{
    string Name { get; }

    /// <summary>Reads the register at <paramref name="port"/>; returns the value and the access's cycles.</summary>
    (ulong Value, int Cycles) Read(ushort port);

    /// <summary>Writes <paramref name="value"/> to the register at <paramref name="port"/>; returns the access's cycles.</summary>
    int Write(ushort port, ulong value);
}
