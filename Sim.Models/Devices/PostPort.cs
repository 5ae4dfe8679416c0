namespace Sim.Models.Devices;

/// <summary>
/// Port 0x80, the POST diagnostic port: writes go nowhere and reads return all ones, but every
/// access is a full I/O cycle on the LPC bus. Kernels write it to wait about a microsecond; the
/// `in` nanobenchmark of Adams and Agesen reads it.
/// </summary>
public sealed class PostPort(int accessCycles) : IPortDevice
{
    public const ushort Port = 0x80;

    public string Name => "post";

    public (ulong Value, int Cycles) Read(ushort port) => (0xFF, accessCycles);

    public int Write(ushort port, ulong value) => accessCycles;
}
