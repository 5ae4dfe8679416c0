using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>The medium behind a disk controller: how long reading or writing a run of sectors takes, and how long it keeps the medium from starting the next.</summary>
public interface IStorageMedium
{
    string Description { get; }

    ulong Sectors { get; }

    /// <summary>Reads or writes <paramref name="count"/> 512-byte sectors from <paramref name="lba"/>, starting now.</summary>
    MediumAccess Access(ulong lba, int count, bool write);
}

/// <summary>
/// One access to a medium: <paramref name="Latency"/> until its data is there, and
/// <paramref name="Occupancy"/>, the time before the medium can start another (shorter than the
/// latency when the medium overlaps requests, as an SSD's channels do; equal when it cannot).
/// </summary>
public readonly record struct MediumAccess(Tick Latency, Tick Occupancy);
