using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>The medium behind a disk controller: how long reading or writing a run of sectors takes.</summary>
public interface IStorageMedium
{
    string Description { get; }

    ulong Sectors { get; }

    /// <summary>The time to read or write <paramref name="count"/> 512-byte sectors from <paramref name="lba"/>, starting now.</summary>
    Tick AccessTime(ulong lba, int count, bool write);
}
