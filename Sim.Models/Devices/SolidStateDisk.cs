using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// A flash SSD: a fixed access latency plus the transfer at the sustained rate, with requests
/// overlapping inside the drive up to its random-access throughput. The defaults are the Intel
/// X25-E data sheet figures (SLC, 2008): 75 us read and 85 us write latency, 250 MB/s sustained
/// read and 170 MB/s sustained write, and 35,000 random 4 KiB reads and 3,300 random 4 KiB writes
/// per second (at queue depth 32).
/// </summary>
/// <remarks>
/// Model: a request occupies the drive for the longer of its share of the random-access
/// throughput and its transfer, and completes its latency after it starts; so one request at a
/// time sees the latency, and a deep queue sees the throughput. No write amplification or garbage
/// collection.
/// </remarks>
public sealed class SolidStateDisk(
    ulong sectors,
    double readLatencyMicroseconds = 75,
    double writeLatencyMicroseconds = 85,
    double readBytesPerSecond = 250e6,
    double writeBytesPerSecond = 170e6,
    double randomReadsPerSecond = 35_000,
    double randomWritesPerSecond = 3_300,
    string name = "SSD") : IStorageMedium
{
    /// <summary>
    /// A current data-centre NVMe SSD, the Intel SSD DC P4500 4.0 TB (PCIe 3.0 x4, TLC NAND;
    /// Lenovo's product guide for it, Table 2, docs/machine.md "Disks"): 115 us random read and
    /// 20 us random write latency, 3.2 GB/s sequential read and 1.8 GB/s write, 645,000 random
    /// 4 KiB reads and 62,500 random 4 KiB writes per second.
    /// </summary>
    public static SolidStateDisk DcP4500(ulong sectors) => new(sectors, readLatencyMicroseconds: 115, writeLatencyMicroseconds: 20,
        readBytesPerSecond: 3.2e9, writeBytesPerSecond: 1.8e9, randomReadsPerSecond: 645_000, randomWritesPerSecond: 62_500, name: "NVMe SSD (DC P4500)");

    public string Description => $"{name}, {readLatencyMicroseconds} us read / {writeLatencyMicroseconds} us write latency";

    public ulong Sectors => sectors;

    public MediumAccess Access(ulong lba, int count, bool write)
    {
        double transfer = count * 512.0 / (write ? writeBytesPerSecond : readBytesPerSecond);
        double latency = ((write ? writeLatencyMicroseconds : readLatencyMicroseconds) * 1e-6) + transfer;
        double occupancy = Math.Max(transfer, 1.0 / (write ? randomWritesPerSecond : randomReadsPerSecond));
        return new MediumAccess(Seconds(latency), Seconds(occupancy));
    }

    private static Tick Seconds(double seconds) => new((ulong)Math.Ceiling(seconds * Tick.PicosecondsPerSecond));
}
