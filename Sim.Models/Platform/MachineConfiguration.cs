using Sim.Models.Devices;

namespace Sim.Models.Platform;

/// <summary>How a machine is put together beyond its CPU generation: cores, memory, platform latencies, disk.</summary>
public sealed record MachineConfiguration(
    int Cores, ulong MemoryBytes, PlatformTimings Timings, DiskKind Disk = DiskKind.SolidState, ulong DiskSectors = 64UL << 21, bool Nic = true,
    DiskInterface DiskInterface = DiskInterface.Ahci, NetworkInterface Network = NetworkInterface.E1000)
{
    public static readonly MachineConfiguration Default = new(Cores: 1, MemoryBytes: 512UL << 20, PlatformTimings.Default);

    public void Validate()
    {
        if (Cores is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(Cores), Cores, "A machine has 1 to 256 cores.");
        }
    }
}
